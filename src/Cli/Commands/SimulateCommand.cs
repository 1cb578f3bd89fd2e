using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using LeadEngine.Simulation;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine simulate</c>: A call centre with drifting customers: random, funnel+recency, static, periodic retraining and continuous learning compared over seeds, an A/B test, and off-policy estimates checked against the simulated truth.</summary>
internal static class SimulateCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("simulate", "A call centre with drifting customers: random, funnel+recency, static, periodic retraining and continuous learning compared over seeds, an A/B test, and off-policy estimates checked against the simulated truth.", Run,
        Int("days", "default 30"), Int("seeds", "default 3"), Int("seed", "first seed (default 1)"), Int("leads-per-day", "default 150"),
            Int("calls-per-day", "default 30"), Int("history-days", "default 20"), Int("retrain-every", "default 10"), Number("drift", "default 1"),
            Number("exploration", "default 0.1"), Number("uniform-share", "share of the continuous policy's lists drawn uniformly: the off-policy estimates' support (default 0: none)"),
            Model(), Switch("json", "JSON output"), Text("out", "report folder (default weights/demo/simulation)"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var options = new SimulationOptions
        {
            Days = a.Int("days", 30), Seeds = a.Int("seeds", 3), FirstSeed = a.Int("seed", 1), LeadsPerDay = a.Int("leads-per-day", 150),
            CallsPerDay = a.Int("calls-per-day", 30), HistoryDays = a.Int("history-days", 20), RetrainEvery = a.Int("retrain-every", 10),
            Drift = a.Double("drift", 1.0), Exploration = a.Double("exploration", 0.1), ModelDir = a.Optional("model"),
            UniformShare = a.Double("uniform-share", 0),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "simulation");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (options.Exploration < 0) throw new UsageException("--exploration must be 0 or more");
        if (options.UniformShare is < 0 or > 1) throw new UsageException("--uniform-share must be in [0, 1]");
        if (options.Days < 2 || options.Seeds < 1 || options.CallsPerDay < 2 || options.LeadsPerDay < 1 || options.HistoryDays < 1 || options.RetrainEvery < 1)
            throw new UsageException("--days needs 2 or more, --calls-per-day 2 or more, and --seeds, --leads-per-day, --history-days, --retrain-every 1 or more");
        var clock = Stopwatch.StartNew();
        using var device = ComputeDevice.Open(kind);
        // With --json, standard output is the JSON alone; progress goes to standard error.
        var progress = json ? Console.Error : Console.Out;
        var results = new Simulator(options, device, line => progress.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}")).Run();
        var report = new SimulationReport(options, results);
        report.Write(outDir);
        if (json) Console.WriteLine(report.Json());
        else
        {
            Console.WriteLine();
            Console.Write(report.Markdown());
        }
        progress.WriteLine($"wrote {Path.Combine(outDir, "simulation.md")} (simulation.json, cumulative.png and .svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
