namespace LeadEngine.Training;

/// <summary>A preference pair: lead <see cref="Better"/> should outscore <see cref="Worse"/> by the tier's margin.</summary>
/// <param name="Better">Batch index of the preferred lead.</param>
/// <param name="Worse">Batch index of the other lead.</param>
/// <param name="Tier">HPRO tier (0 global dominance, 1 key action, 2 soft signal).</param>
public readonly record struct PreferencePair(int Better, int Worse, int Tier);
