namespace LeadEngine.Simulation;

/// <summary>Settings of the timing simulation (<c>leadengine simulate --timing</c>).</summary>
public sealed record TimingOptions
{
    /// <summary>Days simulated, Monday first (six weeks).</summary>
    public int Days { get; init; } = 42;
    /// <summary>Seeds: each a new world, every policy on the same leads and luck.</summary>
    public int Seeds { get; init; } = 3;
    /// <summary>The first seed.</summary>
    public int FirstSeed { get; init; } = 1;
    /// <summary>New leads a day (every day, Sundays too).</summary>
    public int LeadsPerDay { get; init; } = 90;
    /// <summary>Calls a working day: the open leads most likely to convert if reached, the same choice for every timing policy.</summary>
    public int CallsPerDay { get; init; } = 70;
    /// <summary>Calls the reps can make in one two-hour window (7 windows a working day: room for twice the day's calls).</summary>
    public int CapacityPerWindow { get; init; } = 20;
    /// <summary>How far availability drifts over the run (0: none, 1: the full shift).</summary>
    public double Drift { get; init; } = 1;
    /// <summary>Share of the learned policy's calls put in a uniformly random window (what off-policy estimates of other timings weigh).</summary>
    public double Exploration { get; init; } = 0.1;
    /// <summary>Calls a lead gets at most: after this many unanswered it is dropped.</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Days a lead stays callable after it arrives.</summary>
    public int ExpiryDays { get; init; } = 10;
}
