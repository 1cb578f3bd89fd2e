namespace LeadEngine.Training;

/// <summary>Trainer settings.</summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer steps to take (in total, counting steps of a resumed run).</summary>
    public int Steps { get; init; } = 100;
    /// <summary>Micro-batches accumulated per step.</summary>
    public int Accumulate { get; init; } = 1;
    /// <summary>Evaluate every this many steps (0: never).</summary>
    public int EvalEvery { get; init; }
    /// <summary>Save a checkpoint every this many steps (0: only at the end).</summary>
    public int SaveEvery { get; init; }
    /// <summary>Checkpoint folder; none when null.</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Recompute layer activations in the backward pass (long inputs).</summary>
    public bool Recompute { get; init; }
    /// <summary>Seed of the batch order.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Base model path recorded in adapter_config.json.</summary>
    public string? BaseModel { get; init; }
}
