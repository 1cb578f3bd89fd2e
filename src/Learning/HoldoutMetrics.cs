namespace LeadEngine.Learning;

/// <summary>A model's performance on the temporal hold-out.</summary>
/// <param name="Auc">AUC of its probability for conversion (for responded-or-better when the hold-out has no conversion).</param>
/// <param name="Brier">Brier score of its probability against conversion.</param>
public sealed record HoldoutMetrics(double Auc, double Brier);
