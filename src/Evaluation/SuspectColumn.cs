namespace LeadEngine.Evaluation;

/// <summary>A column that alone almost determines the label.</summary>
/// <param name="Column">The feature column.</param>
/// <param name="Auc">ROC AUC of the column alone on the training leads (of its better direction, so ≥ 0.5).</param>
public sealed record SuspectColumn(string Column, double Auc);
