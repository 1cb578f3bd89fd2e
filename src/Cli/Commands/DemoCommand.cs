using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Training;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine demo</c>: The built-in default: a synthetic funnel, a tiny Qwen2 model with the real tokenizer, the default training on the CPU, and the eval table with baselines.</summary>
internal static class DemoCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("demo", "The built-in default: a synthetic funnel, a tiny Qwen2 model with the real tokenizer, the default training on the CPU, and the eval table with baselines.", Run,
        Int("count", "synthetic leads (default 20000)"), Int("epochs", "training epochs (default 1)"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        int count = a.Int("count", 20000), epochs = a.Int("epochs", 1);
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        var total = Stopwatch.StartNew();
        string root = BuiltInModel.Root, modelDir = BuiltInModel.EnsureModel(), data = BuiltInModel.EnsureLeads(count);
        var funnel = FunnelConfig.Automotive;
        var (train, test, _) = LeadPipeline.LoadAndSplit(data, funnel, skipBadRows: false);
        Console.WriteLine($"LeadEngine demo: {count:N0} synthetic automotive leads ({train.Count(l => l.Converted == 1) + test.Count(l => l.Converted == 1)} converted), " +
            $"split by time into {train.Count:N0} train / {test.Count:N0} test");
        var config = BuiltInModel.Config;
        Console.WriteLine($"model: Qwen2 architecture, hidden {config.HiddenSize}, {config.Layers} layers, random weights (seed 1), real Qwen tokenizer; {modelDir}");
        using var device = ComputeDevice.Open(kind);
        var tokenizer = QwenTokenizer.ForModel(modelDir);
        var runs = new List<AdapterScores>();
        // The default (BCE + HPRO + LM: heads, the stacked + LightGBM blend or LightGBM alone, whichever validates best), then the heads without HPRO.
        foreach (var (label, weights, dir, select) in new[]
        {
            ("LeadEngine HPRO (BCE+HPRO+LM)", new LossWeights(1, 0.5, 0.2), "hpro", true),
            ("LeadEngine without HPRO (BCE+LM)", new LossWeights(1, 0, 0.2), "no-hpro", false),
        })
        {
            string outDir = Path.Combine(root, dir);
            var clock = Stopwatch.StartNew();
            Console.WriteLine($"training {label}");
            var options = BuiltInModel.TrainingOptions(epochs, weights);
            if (select)
            {
                var record = ConsoleProgress.Run(progress => LeadPipeline.TrainAndSelect(modelDir, tokenizer, device, train, funnel, options, outDir, progress.Line, progress.Report));
                Console.WriteLine($"  default model: {record.Reason}");
            }
            else
            {
                ConsoleProgress.Run(progress => LeadPipeline.TrainAndCalibrate(modelDir, tokenizer, device, train, funnel, options, outDir, progress.Report));
            }
            var scores = LeadPipeline.Score(modelDir, outDir, tokenizer, device, test);
            Console.WriteLine($"  trained and scored in {clock.Elapsed.TotalSeconds:F0} s");
            runs.Add(Adapter(outDir, scores, label));
        }
        var result = ModelComparison.Evaluate(runs, train, test, funnel, Path.Combine(root, "report"), RankingWindows.Of(test));
        Console.WriteLine();
        ConsoleTables.Metrics(result);
        Console.WriteLine($"report with gains and calibration charts: {Path.Combine(root, "report", "report.md")}; total {total.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
