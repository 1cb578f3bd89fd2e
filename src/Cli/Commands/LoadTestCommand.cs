using LeadEngine.LeadScoring;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine load-test</c>: Bounded loopback load test of a running service: throughput and p50/p95/p99 latency.</summary>
internal static class LoadTestCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("load-test", "Bounded loopback load test of a running service: throughput and p50/p95/p99 latency.", Run,
        Text("url", "http://127.0.0.1:PORT", required: true), Int("clients", "default 4"), Number("seconds", "default 10"),
            Number("feedback-share", "share of requests that post feedback (default 0.25)"), Int("seed", "default 1"), Text("data", "lead file to send (default synthetic)"),
            Int("call-list-clients", "further clients asking for call lists back to back (default 0)"), Int("call-list-k", "K of each call list (default 100)"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var options = new LoadTestOptions
        {
            Target = new Uri(a.Required("url")), Clients = a.Int("clients", 4), Duration = TimeSpan.FromSeconds(a.Double("seconds", 10)),
            FeedbackShare = a.Double("feedback-share", 0.25), Seed = a.Int("seed", 1),
            CallListClients = a.Int("call-list-clients", 0), CallListSize = a.Int("call-list-k", 100),
        };
        string? data = a.Optional("data");
        if (options.Clients < 1) throw new UsageException("--clients must be at least 1");
        if (options.CallListClients < 0 || options.CallListSize < 1) throw new UsageException("--call-list-clients must be 0 or more and --call-list-k at least 1");
        var leads = LeadDataReader.Read(data ?? BuiltInModel.EnsureLeads(), FunnelConfig.Default, requireOutcome: false).Leads;
        Console.WriteLine($"load test: {options.Clients} clients for {options.Duration.TotalSeconds:F0} s against {options.Target} " +
            $"({100 * options.FeedbackShare:F0}% feedback, the rest one lead per score request)" +
            (options.CallListClients > 0 ? $", {options.CallListClients} more asking for call lists of {options.CallListSize} back to back" : "") +
            $", then one call list of {options.CallListSize}");
        var lines = LoadTest.RunAsync(options, leads).GetAwaiter().GetResult();
        Console.WriteLine("| request | count | failed | per second | p50 ms | p95 ms | p99 ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var l in lines)
            Console.WriteLine($"| {l.Kind} | {l.Requests} | {l.Failures} | {(double.IsNaN(l.PerSecond) ? "-" : l.PerSecond.ToString("F1"))} | {l.P50Ms:F1} | {l.P95Ms:F1} | {l.P99Ms:F1} |");
        return lines.Sum(l => l.Failures) == 0 ? 0 : 1;
    }
}
