using LeadEngine.Engine;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadEngine.LeadScoring;

/// <summary>
/// How an adapter folder was trained (<see cref="FileName"/>): the objective, whether the heads read
/// the lead's columns, which model gives the probability users get (<see cref="Scorer"/>) and why.
/// </summary>
public sealed record TrainingRecord
{
    /// <summary>File name in the adapter folder.</summary>
    public const string FileName = "training.json";

    /// <summary>The pointwise head gives the probability.</summary>
    public const string HeadsScorer = "heads";

    /// <summary>The blend of the stacked tree model and LightGBM alone gives the probability (<see cref="LeadScorer.Blend"/>).</summary>
    public const string BlendScorer = "blend";

    /// <summary>The stacked tree model alone gives the probability (adapters trained before the blend).</summary>
    public const string StackedScorer = "stacked";

    /// <summary>LightGBM over the columns and the dialogue alone gives the probability (it validated best).</summary>
    public const string TreesScorer = "trees";

    /// <summary>Loss weights: BCE, HPRO, LM.</summary>
    [JsonPropertyName("loss_weights")] public required double[] LossWeights { get; init; }
    /// <summary>Epochs.</summary>
    [JsonPropertyName("epochs")] public int Epochs { get; init; }
    /// <summary>Heads' learning rate.</summary>
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    /// <summary>Training leads.</summary>
    [JsonPropertyName("training_leads")] public int TrainingLeads { get; init; }
    /// <summary>Structured features the heads read (0: none).</summary>
    [JsonPropertyName("head_features")] public int HeadFeatures { get; init; }
    /// <summary><see cref="HeadsScorer"/>, <see cref="BlendScorer"/>, <see cref="TreesScorer"/> (or <see cref="StackedScorer"/> in older folders).</summary>
    [JsonPropertyName("scorer")] public required string Scorer { get; init; }
    /// <summary>Each candidate on the validation slice (empty when none was compared).</summary>
    [JsonPropertyName("validation")] public ValidationResult[] Validation { get; init; } = [];
    /// <summary>Validation leads (the latest of the training period).</summary>
    [JsonPropertyName("validation_leads")] public int ValidationLeads { get; init; }
    /// <summary>Why <see cref="Scorer"/> was chosen, in one sentence.</summary>
    [JsonPropertyName("reason")] public required string Reason { get; init; }

    /// <summary>Whether HPRO trained the pairwise head (its loss weight was above zero); without it the head is untrained.</summary>
    [JsonIgnore] public bool PairwiseHeadTrained => LossWeights.Length > 1 && LossWeights[1] > 0;

    /// <summary>Writes the record into <paramref name="directory"/> (atomically).</summary>
    public void Save(string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The record in <paramref name="directory"/>, or null for adapters trained before records were kept.</summary>
    public static TrainingRecord? Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        return File.Exists(path) ? JsonFile.Read<TrainingRecord>(path, "training record") : null;
    }
}
