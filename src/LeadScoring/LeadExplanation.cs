namespace LeadEngine.LeadScoring;

/// <summary>A score with its strongest reasons each way (strongest first).</summary>
public sealed record LeadExplanation(LeadScore Score, IReadOnlyList<ScoreReason> Positive, IReadOnlyList<ScoreReason> Negative);
