namespace LeadEngine.Training;

/// <summary>What one optimizer step did.</summary>
/// <param name="Step">1-based step number.</param>
/// <param name="GradNorm">Global L2 norm of the (accumulation-averaged) gradient before clipping.</param>
/// <param name="HeadRate">Learning rate applied to the heads.</param>
/// <param name="LoraRate">Learning rate applied to LoRA.</param>
public sealed record OptimizerStep(int Step, double GradNorm, double HeadRate, double LoraRate);
