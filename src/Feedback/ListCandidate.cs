namespace LeadEngine.Feedback;

/// <summary>A lead a call list was chosen from: its probability then and the policy's propensity to list it.</summary>
/// <param name="ListId">The call list.</param>
/// <param name="LeadId">The open lead.</param>
/// <param name="Probability">Its probability under the serving model.</param>
/// <param name="Propensity">P(on the list) under the policy (0 for leads a deterministic policy passed over).</param>
public sealed record ListCandidate(string ListId, string LeadId, double Probability, double Propensity);
