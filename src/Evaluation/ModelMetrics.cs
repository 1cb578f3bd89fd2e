namespace LeadEngine.Evaluation;

/// <summary>The metrics of one model.</summary>
/// <param name="Name">Model name in the report.</param>
/// <param name="WindowAuc">Mean AUC within the ranking windows (<see cref="RankingWindows.MeanAuc"/>): what the report ranks by.</param>
/// <param name="WindowPrecision">Mean conversion rate among each window's best-scored leads at the call capacity.</param>
/// <param name="Auc">AUC pooled over the whole test period.</param>
/// <param name="PrecisionAt01">Pooled precision at the top 0.1%.</param>
/// <param name="PrecisionAt1">Pooled precision at the top 1%.</param>
/// <param name="RecallAt5">Pooled recall at the top 5%.</param>
/// <param name="Brier">Brier score of its probability (null without one).</param>
/// <param name="Ece">Expected calibration error of its probability (null without one).</param>
public sealed record ModelMetrics(string Name, double WindowAuc, double WindowPrecision, double Auc, double PrecisionAt01, double PrecisionAt1, double RecallAt5,
    double? Brier, double? Ece);
