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
            Model(), Switch("json", "JSON output"), Text("out", "report folder (default weights/demo/simulation)"), Device(),
            Switch("timing", "when to call instead: uniform, best-slot, learned and oracle timing compared over seeds (defaults then: 42 days, 90 leads and 70 calls a day)"),
            Int("capacity-per-window", "with --timing: calls the reps can make in one two-hour window (default 20)"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        if (a.Flag("timing")) return RunTiming(a);
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
        return Print(json, report.Json(), report.Markdown(), progress, $"{Path.Combine(outDir, "simulation.md")} (simulation.json, cumulative.png and .svg)", clock);
    }

    /// <summary>The report on standard output: the JSON alone with --json (progress went to standard error), else the Markdown; then what was written.</summary>
    private static int Print(bool json, string jsonText, string markdown, TextWriter progress, string written, Stopwatch clock)
    {
        if (json) Console.WriteLine(jsonText);
        else
        {
            Console.WriteLine();
            Console.Write(markdown);
        }
        progress.WriteLine($"wrote {written}; {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    /// <summary><c>simulate --timing</c>: the timing policies over seeds, as a table or JSON, with the report and charts written.</summary>
    private static int RunTiming(CliArgs a)
    {
        var defaults = new TimingOptions();
        var options = new TimingOptions
        {
            Days = a.Int("days", defaults.Days), Seeds = a.Int("seeds", defaults.Seeds), FirstSeed = a.Int("seed", defaults.FirstSeed),
            LeadsPerDay = a.Int("leads-per-day", defaults.LeadsPerDay), CallsPerDay = a.Int("calls-per-day", defaults.CallsPerDay),
            CapacityPerWindow = a.Int("capacity-per-window", defaults.CapacityPerWindow), Drift = a.Double("drift", defaults.Drift),
            Exploration = a.Double("exploration", defaults.Exploration),
        };
        if (options.Days < 7 || options.Seeds < 1 || options.LeadsPerDay < 1 || options.CallsPerDay < 1 || options.CapacityPerWindow < 1)
            throw new UsageException("--timing needs --days 7 or more and --seeds, --leads-per-day, --calls-per-day, --capacity-per-window 1 or more");
        if (options.Exploration is <= 0 or >= 1) throw new UsageException("--exploration must be in (0, 1) with --timing: the off-policy check weighs its calls");
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "simulation");
        var clock = Stopwatch.StartNew();
        var progress = json ? Console.Error : Console.Out;
        var result = new TimingSimulation(options, line => progress.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}")).Run();
        result.Write(outDir);
        return Print(json, result.Json(), result.Markdown(), progress,
            $"{Path.Combine(outDir, "timing.md")} (timing.json; timing-weekly, timing-heatmap and timing-observed .png and .svg)", clock);
    }
}
