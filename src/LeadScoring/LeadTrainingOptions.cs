using LeadEngine.Training;

namespace LeadEngine.LeadScoring;

/// <summary>Settings of a lead-scoring training run.</summary>
public sealed record LeadTrainingOptions
{
    /// <summary>Passes over the training leads.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Leads per batch.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Heads' learning rate; LoRA gets it divided by <see cref="LoraRateDivisor"/>.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>LoRA rate divisor.</summary>
    public double LoraRateDivisor { get; init; } = 20;
    /// <summary>LoRA rank.</summary>
    public int Rank { get; init; } = 8;
    /// <summary>LoRA alpha.</summary>
    public float Alpha { get; init; } = 16;
    /// <summary>Loss weights (HPRO off: weight 0).</summary>
    public LossWeights Weights { get; init; } = new();
    /// <summary>Seed of initialisation and batch order.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Activation recomputation.</summary>
    public bool Recompute { get; init; }
    /// <summary>Wide-and-deep heads: the lead's encoded columns enter the score heads beside the hidden state.</summary>
    public bool StructuredFeatures { get; init; } = true;
    /// <summary>Time folds of the training leads for the stacked model's out-of-fold LLM scores; the last is the validation slice.</summary>
    public int Folds { get; init; } = 3;
}
