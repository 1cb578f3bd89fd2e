namespace LeadEngine.Evaluation;

/// <summary>One model's scores on the test leads.</summary>
/// <param name="Name">Model name in the report.</param>
/// <param name="Scores">Ranking scores (higher first).</param>
/// <param name="Probabilities">Calibrated probabilities, or null for rank-only baselines.</param>
public sealed record ScoredModel(string Name, double[] Scores, double[]? Probabilities);
