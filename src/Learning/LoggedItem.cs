namespace LeadEngine.Learning;

/// <summary>One logged call-list lead: the logging policy's propensity, the target policy's, the reward, the reward model's prediction.</summary>
/// <param name="LoggedPropensity">P(on the list) under the policy that made the list (&gt; 0).</param>
/// <param name="TargetPropensity">P(on the list) under the policy being evaluated.</param>
/// <param name="Reward">The reward observed.</param>
/// <param name="Predicted">The reward model's prediction for this lead (doubly robust only).</param>
public sealed record LoggedItem(double LoggedPropensity, double TargetPropensity, double Reward, double Predicted = 0);
