using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine train</c>: Train a lead scorer on the time-ordered first 70% of a lead file (CSV, Parquet or JSON Lines) and choose the default model on a temporal validation slice.</summary>
internal static class TrainCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("train", "Train a lead scorer on the time-ordered first 70% of a lead file (CSV, Parquet or JSON Lines) and choose the default model on a temporal validation slice.", Run,
        [Text("data", "the lead file", required: true), Text("out", "the adapter folder to write", required: true), Model(), .. Mapping(),
            Int("epochs", "default 1"), Int("batch-size", $"leads per training step (default {new LeadTrainingOptions().BatchSize})"), Int("rank", "LoRA rank (default 8)"), Int("seed", "default 1"),
            Number("lr", "head learning rate; LoRA 20x lower (default 3e-3)"), Int("folds", "time folds for the stacked model's out-of-fold head outputs (default 3)"),
            Text("loss-weights", "w_bce,w_hpro,w_lm (default 1,0.5,0.2)"), Switch("recompute", "recompute activations in the backward pass (less memory)"),
            Switch("heads-only", "skip the stacked model: the LLM heads' probability is the score"),
            Switch("no-head-features", "heads read the final hidden state only, not the encoded columns"), SkipBadRows(), Device()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string data = a.Required("data"), outDir = a.Required("out");
        string modelDir = ModelDir(a);
        var funnel = Funnel(a);
        var columns = Columns(a);
        var options = new LeadTrainingOptions
        {
            Epochs = a.Int("epochs", 1), BatchSize = a.Int("batch-size", new LeadTrainingOptions().BatchSize), Rank = a.Int("rank", 8), Seed = a.Int("seed", 1),
            LearningRate = a.Double("lr", 3e-3), Recompute = a.Flag("recompute"), Folds = a.Int("folds", 3),
            StructuredFeatures = !a.Flag("no-head-features"),
            Weights = TrainingArgs.ParseWeights(a.Optional("loss-weights", "1,0.5,0.2")!),
        };
        options = options with { Alpha = 2f * options.Rank };
        bool skip = a.Flag("skip-bad-rows"), headsOnly = a.Flag("heads-only");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        var clock = Stopwatch.StartNew();
        var (train, test, read) = LeadPipeline.LoadAndSplit(data, funnel, skip, columns);
        Console.WriteLine($"{data}: {read.Leads.Count:N0} leads; training on the first {train.Count:N0} by time, {test.Count:N0} held out for eval");
        PrintNotes(read);
        foreach (var suspect in LeakCheck.Find(train))
            Console.WriteLine($"  warning: column '{suspect.Column}' alone ranks the label with AUC {suspect.Auc:F3} on the training leads: if it is filled in " +
                $"after contact it leaks the outcome (drop it with --drop {suspect.Column})");
        using var device = ComputeDevice.Open(kind);
        var tokenizer = QwenTokenizer.ForModel(modelDir);
        if (headsOnly)
        {
            ConsoleProgress.Run(progress => LeadPipeline.TrainAndCalibrate(modelDir, tokenizer, device, train, funnel, options, outDir, progress.Report, columns: read.Columns));
            Console.WriteLine($"saved adapter, heads, optimizer state and score percentiles to {outDir} (pointwise head only, --heads-only) in {clock.Elapsed.TotalSeconds:F0} s");
            return 0;
        }
        var record = ConsoleProgress.Run(progress => LeadPipeline.TrainAndSelect(modelDir, tokenizer, device, train, funnel, options, outDir, progress.Line, progress.Report, read.Columns));
        ConsoleTables.Write($"validation on the latest {record.ValidationLeads:N0} training leads", ["model", "AUC", "Brier"],
            record.Validation.Select(v => new[] { v.Name, v.Auc.ToString("F4", CultureInfo.InvariantCulture), v.Brier.ToString("F4", CultureInfo.InvariantCulture) }));
        Console.WriteLine($"default model: {record.Reason}");
        Console.WriteLine($"saved to {outDir} in {clock.Elapsed.TotalSeconds:F0} s (model {modelDir})");
        return 0;
    }
}
