namespace LeadEngine.Cli;

/// <summary>Settings of a load test.</summary>
public sealed record LoadTestOptions
{
    /// <summary>The service; loopback only (this is a local benchmark, not a tool to load other hosts).</summary>
    public required Uri Target { get; init; }
    /// <summary>Clients sending requests back to back, each on its own connection.</summary>
    public int Clients { get; init; } = 4;
    /// <summary>How long the clients send; the test then stops by itself.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>A client stops after this many requests even before <see cref="Duration"/>.</summary>
    public int MaxRequestsPerClient { get; init; } = 100_000;
    /// <summary>Share of requests that send an outcome event for a lead scored before; the rest score one lead.</summary>
    public double FeedbackShare { get; init; } = 0.25;
    /// <summary>Further clients asking for call lists back to back, each on its own connection (what a claim costs the other requests).</summary>
    public int CallListClients { get; init; }
    /// <summary>K of every call list asked for, the closing one included.</summary>
    public int CallListSize { get; init; } = 100;
    /// <summary>Seed of each client's choices.</summary>
    public int Seed { get; init; } = 1;
}
