namespace LeadEngine.Feedback;

/// <summary>What the learners read of a stored lead: its fields as scored (JSON) and the probability last served for it.</summary>
public sealed record LeadSnapshot(string LeadId, string Fields, double LastProbability);
