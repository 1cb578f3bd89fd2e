namespace LeadEngine.Learning;

/// <summary>Settings of <c>leadengine update</c>.</summary>
public sealed record UpdateOptions
{
    /// <summary>The latest share of the outcomes, by time, kept out of training to judge the candidate.</summary>
    public double HoldoutFraction { get; init; } = 0.2;
    /// <summary>Passes over the new outcomes and the replay sample.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Heads' learning rate (LoRA gets it divided by 20), lower than a first training: the candidate starts from the current version.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Older outcomes replayed per new one (so the candidate does not forget what it knew).</summary>
    public double ReplayRatio { get; init; } = 1.0;
    /// <summary>How long after a call list its outcomes are attributed to it.</summary>
    public TimeSpan AttributionWindow { get; init; } = TimeSpan.FromDays(14);
    /// <summary>How much worse the candidate may look (AUC, Brier, reward per list) and still count as not worse.</summary>
    public double Tolerance { get; init; } = 0.01;
    /// <summary>Call lists with settled outcomes needed before off-policy evaluation is used (fewer give intervals too rough to trust).</summary>
    public int MinimumLists { get; init; } = 20;
    /// <summary>Seed of the replay sample and of training.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>No candidate when a version was made less than this long ago (several hosts on one schedule then make one version per period); null: always.</summary>
    public TimeSpan? NotWithin { get; init; }
}
