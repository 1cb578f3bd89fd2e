namespace LeadEngine.Training;

/// <summary>AdamW settings. LoRA tensors train at <see cref="LearningRate"/> / <see cref="LoraRateDivisor"/>.</summary>
public sealed record AdamWOptions
{
    /// <summary>Base learning rate (the heads' rate).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>LoRA rate = base / this (the method's differential rates; default 20).</summary>
    public double LoraRateDivisor { get; init; } = 20;
    /// <summary>β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Denominator epsilon.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm clip; 0 or less disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = new(0, 0, DecayKind.Constant);
}
