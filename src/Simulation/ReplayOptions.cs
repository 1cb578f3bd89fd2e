using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>Settings of a replay over a real, time-ordered lead file.</summary>
public sealed record ReplayOptions
{
    /// <summary>Consecutive leads (in time order) that make one day's candidates.</summary>
    public int LeadsPerDay { get; init; } = 400;
    /// <summary>Calls a day: the list length every policy gets.</summary>
    public int CallsPerDay { get; init; } = 40;
    /// <summary>Share of the file, from the start, that is history: the static scorer's training data, before day 1.</summary>
    public double HistoryShare { get; init; } = 0.3;
    /// <summary>The periodic policy retrains its trees every this many days.</summary>
    public int RetrainEvery { get; init; } = 10;
    /// <summary>
    /// The continuous policy retrains its trees every this many days: <c>serve --update-every-hours 24</c>, which learns
    /// each day's outcomes the next day.
    /// </summary>
    public int UpdateEvery { get; init; } = 1;
    /// <summary>Scale of the continuous policy's posterior draws (Thompson sampling; 0 would be greedy).</summary>
    public double Exploration { get; init; } = 1.0;
    /// <summary>
    /// Share of each of the continuous policy's lists that explores among the leads it did not choose
    /// (<see cref="ExplorationSlotsPolicy"/>), so that every day's logs support off-policy estimates of other policies.
    /// </summary>
    public double ExplorationShare { get; init; } = ExplorationSlotsPolicy.DefaultShare;
    /// <summary>Seed of the random and Thompson draws.</summary>
    public int Seed { get; init; } = 1;
}
