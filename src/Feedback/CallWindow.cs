namespace LeadEngine.Feedback;

/// <summary>When a listed lead is to be called: a window of the reps' hours, the lead's P(answer) in it, and the chance the planner chose it.</summary>
/// <param name="Start">The window's start.</param>
/// <param name="End">Its end.</param>
/// <param name="PAnswer">The pick-up model's P(answer) for the lead in this window.</param>
/// <param name="Propensity">P(the planner puts the lead in this window): what off-policy evaluation of other timings weighs.</param>
public sealed record CallWindow(DateTimeOffset Start, DateTimeOffset End, double PAnswer, double Propensity);
