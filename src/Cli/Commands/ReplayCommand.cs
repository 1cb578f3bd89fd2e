using LeadEngine.LeadScoring;
using LeadEngine.Simulation;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine replay</c>: The simulator's replay mode over a real, time-ordered lead file: the same policies call K of each day's leads and learn only their logged outcomes; off-policy estimates from the continuous policy's logs beside the replayed values.</summary>
internal static class ReplayCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("replay", "The simulator's replay mode over a real, time-ordered lead file: the same policies call K of each day's leads and learn only their logged outcomes; off-policy estimates from the continuous policy's logs beside the replayed values.", Run,
        [Text("data", "the lead file (every lead with its outcome)", required: true), .. Mapping(),
            Int("leads-per-day", "consecutive leads per day (default 400)"), Int("calls-per-day", "default 40"),
            Number("history-share", "share of the file before day 1: the static scorer's training data (default 0.3)"),
            Int("retrain-every", "days between the periodic policy's retrainings (default 10)"),
            Int("update-every", "days between the continuous policy's retrainings (default 1: serve --update-every-hours 24)"), Number("exploration", "Thompson draw scale (default 1)"),
            Number("exploration-share", "share of each of the continuous policy's lists that explores among the leads it did not choose, drawn in proportion to their probability: the logging support of the off-policy estimates (default 0.025: one call in 40)"),
            Int("seed", "default 1"), Switch("json", "JSON output"), Text("out", "report folder (default weights/demo/replay)"), SkipBadRows()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string data = a.Required("data");
        var options = new ReplayOptions
        {
            LeadsPerDay = a.Int("leads-per-day", 400), CallsPerDay = a.Int("calls-per-day", 40), HistoryShare = a.Double("history-share", 0.3),
            RetrainEvery = a.Int("retrain-every", 10), UpdateEvery = a.Int("update-every", 1), Exploration = a.Double("exploration", 1.0), Seed = a.Int("seed", 1),
            ExplorationShare = a.Double("exploration-share", new ReplayOptions().ExplorationShare),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "replay");
        if (options.CallsPerDay < 1 || options.LeadsPerDay <= options.CallsPerDay)
            throw new UsageException("--calls-per-day must be at least 1 and below --leads-per-day");
        if (options.HistoryShare is <= 0 or >= 1) throw new UsageException("--history-share must be between 0 and 1");
        if (options.RetrainEvery < 1 || options.UpdateEvery < 1 || options.Exploration < 0)
            throw new UsageException("--retrain-every and --update-every must be 1 or more and --exploration 0 or more");
        if (options.ExplorationShare is <= 0 or >= 1) throw new UsageException("--exploration-share must be in (0, 1)");
        var funnel = LeadFileArgs.Funnel(a);
        var read = LeadDataReader.Read(data, funnel, requireOutcome: true, a.Flag("skip-bad-rows"), LeadFileArgs.Columns(a));
        var clock = Stopwatch.StartNew();
        var progress = json ? Console.Error : Console.Out;
        if (!json) LeadFileArgs.PrintNotes(read);
        var result = Simulation.Replay.Run(read.Leads, funnel, options, line => progress.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}"));
        Simulation.Replay.Write(outDir, result);
        Console.Write(json ? Simulation.Replay.Json(result) + "\n" : "\n" + Simulation.Replay.Markdown(result));
        progress.WriteLine($"wrote {Path.Combine(outDir, "replay.md")} (replay.json, cumulative.png and .svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
