namespace LeadEngine.Training;

/// <summary>One optimizer step's report.</summary>
/// <param name="Step">1-based step.</param>
/// <param name="TotalSteps">Steps of the run.</param>
/// <param name="Loss">Training losses averaged over the step's micro-batches.</param>
/// <param name="Optimizer">Gradient norm and learning rates.</param>
/// <param name="Tokens">Tokens processed in the step.</param>
/// <param name="Seconds">Wall time of the step.</param>
/// <param name="Eval">Evaluation losses, on evaluation steps.</param>
public sealed record TrainStepReport(int Step, int TotalSteps, LossTerms Loss, OptimizerStep Optimizer, int Tokens, double Seconds, LossTerms? Eval);
