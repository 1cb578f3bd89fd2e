using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>Settings of <c>leadengine simulate</c>.</summary>
public sealed record SimulationOptions
{
    /// <summary>Simulated days.</summary>
    public int Days { get; init; } = 30;
    /// <summary>Independent worlds (seeds), each with its own history, leads and outcomes.</summary>
    public int Seeds { get; init; } = 3;
    /// <summary>The first seed; seeds run FirstSeed, FirstSeed+1, …</summary>
    public int FirstSeed { get; init; } = 1;
    /// <summary>New leads a day.</summary>
    public int LeadsPerDay { get; init; } = 150;
    /// <summary>Calls a day (capacity K).</summary>
    public int CallsPerDay { get; init; } = 30;
    /// <summary>Days of history before the simulation, every lead called, that the first model is trained on.</summary>
    public int HistoryDays { get; init; } = 20;
    /// <summary>The periodic policy retrains LoRA and heads from scratch every this many days.</summary>
    public int RetrainEvery { get; init; } = 10;
    /// <summary>How far customer behaviour drifts over the period (<see cref="CallCentreWorld.Drift"/>).</summary>
    public double Drift { get; init; } = 1.0;
    /// <summary>
    /// Spread of the continuous policy's Thompson draws, as a multiple of the posterior's (linear
    /// Thompson sampling's v). 1 is the posterior itself; measured here it cost 20–30% of the
    /// conversions over 30 days (with 1,400 open leads, the top 30 of each draw were mostly its
    /// widest outliers), so the default explores at a tenth of it.
    /// </summary>
    public double Exploration { get; init; } = 0.1;
    /// <summary>
    /// Share of the continuous policy's lists drawn uniformly (<see cref="UniformMixturePolicy"/>), so that every
    /// open lead keeps a logged propensity and the off-policy estimates of other policies have support; 0 (the
    /// default): none. In this world 0.1 costs more conversions than it buys estimates (README, Continuous learning).
    /// </summary>
    public double UniformShare { get; init; }
    /// <summary>The model folder (the built-in default when null).</summary>
    public string? ModelDir { get; init; }
}
