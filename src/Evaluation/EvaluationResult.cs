namespace LeadEngine.Evaluation;

/// <summary>What the report says: every model's metrics and the line that says how they were measured.</summary>
/// <param name="Metrics">One row per model.</param>
/// <param name="Title">The line above the table.</param>
public sealed record EvaluationResult(IReadOnlyList<ModelMetrics> Metrics, string Title);
