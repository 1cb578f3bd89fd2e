using System.Diagnostics;
using LeadEngine.Kernels;
using LeadEngine.Learning.Simulation;
using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary><c>simulate</c>.</summary>
internal static class LearningCommands
{
    public static int Simulate(CliArgs a)
    {
        var options = new SimulationOptions
        {
            Days = a.Int("days", 30), Seeds = a.Int("seeds", 3), FirstSeed = a.Int("seed", 1), LeadsPerDay = a.Int("leads-per-day", 150),
            CallsPerDay = a.Int("calls-per-day", 30), HistoryDays = a.Int("history-days", 20), RetrainEvery = a.Int("retrain-every", 10),
            Drift = a.Double("drift", 1.0), Exploration = a.Double("exploration", 0.1), ModelDir = a.Optional("model"),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "simulation");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
        if (options.Exploration < 0) throw new UsageException("--exploration must be 0 or more");
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
        progress.WriteLine($"wrote {Path.Combine(outDir, "simulation.md")} (simulation.json, cumulative.svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
