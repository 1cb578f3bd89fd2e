namespace LeadEngine.Cli;

/// <summary>Latency and throughput of one request kind.</summary>
/// <param name="Kind">score, feedback or call-list.</param>
/// <param name="Requests">Requests answered.</param>
/// <param name="Failures">Requests answered with another status than expected, or not answered.</param>
/// <param name="PerSecond">Requests per second over the whole test.</param>
/// <param name="P50Ms">Median latency.</param>
/// <param name="P95Ms">95th percentile latency.</param>
/// <param name="P99Ms">99th percentile latency.</param>
public sealed record LoadTestLine(string Kind, int Requests, int Failures, double PerSecond, double P50Ms, double P95Ms, double P99Ms);
