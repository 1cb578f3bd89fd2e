namespace LeadEngine.LeadScoring;

/// <summary>One reason for a score: a feature column or a dialogue span, and how far it moved the score.</summary>
/// <param name="Kind"><see cref="ScoreExplanations.FeatureKind"/> or <see cref="ScoreExplanations.DialogueKind"/>.</param>
/// <param name="Name">The column's name, or the span's text.</param>
/// <param name="Value">The lead's value of the column; null for a span.</param>
/// <param name="Contribution">logit(p) − logit(p with this left out), p the probability users get: positive raised the score.</param>
public sealed record ScoreReason(string Kind, string Name, string? Value, double Contribution);
