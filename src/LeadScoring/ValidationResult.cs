using System.Text.Json.Serialization;

namespace LeadEngine.LeadScoring;

/// <summary>One candidate's result on the temporal validation slice.</summary>
/// <param name="Name">The candidate.</param>
/// <param name="Auc">ROC AUC of its probability.</param>
/// <param name="Brier">Brier score of its probability.</param>
public sealed record ValidationResult([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("auc")] double Auc,
    [property: JsonPropertyName("brier")] double Brier);
