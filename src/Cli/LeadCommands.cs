using LeadEngine.Evaluation;
using System.Diagnostics;
using System.Globalization;
using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Kernels;
using LeadEngine.Training;
using LeadEngine.LeadScoring.Evaluation;

namespace LeadEngine.Cli;

/// <summary>Commands over lead data.</summary>
internal static class LeadCommands
{
    public static int GenerateLeads(CliArgs a)
    {
        string path = a.Required("out");
        int count = a.Int("count", 20000), seed = a.Int("seed", 1);
        SyntheticLeads.WriteCsv(path, count, seed);
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, requireOutcome: true);
        int positives = data.Leads.Count(l => l.Converted == 1);
        Console.WriteLine($"wrote {count} leads to {path}: {positives} converted ({100.0 * positives / count:F2}%)");
        return 0;
    }

    public static int Prompt(CliArgs a)
    {
        string path = a.Required("data");
        string? id = a.Optional("lead");
        int budget = a.Int("budget", 2000);
        string? modelDir = a.Optional("model");
        var data = LeadDataReader.Read(path, Funnel(a), requireOutcome: false);
        var lead = id is null ? data.Leads.FirstOrDefault() : data.Leads.FirstOrDefault(l => l.Id == id);
        if (lead is null) throw new ArgumentException(id is null ? $"{path}: no leads" : $"{path}: no lead '{id}'");
        var builder = new PromptBuilder(QwenTokenizer.ForModel(modelDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!), new PromptOptions { TokenBudget = budget });
        var prompt = builder.Build(lead);
        Console.Write(builder.Text(prompt));
        Console.Error.WriteLine($"[{prompt.Ids.Length} tokens{(prompt.DialogueTruncated ? ", dialogue truncated" : "")}; answer tokens Yes={builder.YesTokenId} No={builder.NoTokenId}]");
        return 0;
    }

    internal static FunnelConfig Funnel(CliArgs a, LeadSchema? schema = null) =>
        a.Optional("funnel") is { } path ? FunnelConfig.Load(path) : LeadSchema.FunnelOf(schema);

    /// <summary>
    /// The column mapping: <c>--columns FILE.json</c>, else the adapter's (when scoring with one), else
    /// our names; then each <c>--X-column NAME</c> flag (<c>none</c>: the file has no such column) and <c>--drop a,b</c>.
    /// </summary>
    internal static LeadColumns Columns(CliArgs a, LeadSchema? schema = null)
    {
        var columns = a.Optional("columns") is { } file ? LeadColumns.Load(file) : schema?.Columns ?? LeadColumns.Standard;
        string? Flag(string name, string? current) => a.Optional(name) is { } v ? (v == "none" ? null : v) : current;
        return columns with
        {
            Id = Flag("id-column", columns.Id),
            CreatedAt = Flag("time-column", columns.CreatedAt),
            Label = Flag("label-column", columns.Label),
            Stage = Flag("stage-column", columns.Stage),
            CallSeconds = Flag("call-seconds-column", columns.CallSeconds),
            Dialogue = Flag("dialogue-column", columns.Dialogue),
            Drop = [.. columns.Drop, .. (a.Optional("drop") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        };
    }

    /// <summary>The model folder: <c>--model</c>, else the adapter's base model, else the built-in default (written once).</summary>
    private static string ModelDir(CliArgs a, string? adapterDir = null) =>
        a.Optional("model") ?? (adapterDir is not null ? LeadScorer.ModelFor(adapterDir) : BuiltInModel.EnsureModel());

    internal static void PrintNotes(LeadDataSet data)
    {
        foreach (string note in data.Notes) Console.WriteLine($"  note: {note}");
        if (data.Skipped.Count > 0) Console.WriteLine($"  {data.Skipped.Count} bad rows skipped; the first: {data.Skipped[0].Message}");
    }

    public static int Train(CliArgs a)
    {
        string data = a.Required("data"), outDir = a.Required("out");
        string modelDir = ModelDir(a);
        var funnel = Funnel(a);
        var columns = Columns(a);
        var options = new LeadTrainingOptions
        {
            Epochs = a.Int("epochs", 1), BatchSize = a.Int("batch-size", 16), Rank = a.Int("rank", 8), Seed = a.Int("seed", 1),
            LearningRate = a.Double("lr", 3e-3), Recompute = a.Flag("recompute"), Folds = a.Int("folds", 3),
            StructuredFeatures = !a.Flag("no-head-features"),
            Weights = TrainingCommands.ParseWeights(a.Optional("loss-weights", "1,0.5,0.2")!),
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

    /// <summary>
    /// What scoring with an adapter needs besides it: the model it was trained on, its funnel and its column
    /// mapping (from its schema; flags override), so <c>score</c> and <c>eval</c> need only <c>--adapter</c>.
    /// </summary>
    private static (string ModelDir, FunnelConfig Funnel, LeadColumns Columns) FromAdapter(CliArgs a, string adapterDir)
    {
        if (!Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"{adapterDir}: adapter folder not found");
        var schema = LeadSchema.Load(adapterDir); // null for adapters older than schemas
        return (ModelDir(a, adapterDir), Funnel(a, schema), Columns(a, schema));
    }

    public static int Score(CliArgs a)
    {
        string adapterDir = a.Required("adapter"), data = a.Required("data"), outPath = a.Required("out");
        var (modelDir, funnel, columns) = FromAdapter(a, adapterDir);
        bool skip = a.Flag("skip-bad-rows"), explain = a.Flag("explain");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        var leads = LeadDataReader.Read(data, funnel, requireOutcome: false, skip, columns);
        using var device = ComputeDevice.Open(kind);
        using var scorer = LeadScorer.Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device);
        var clock = Stopwatch.StartNew();
        int done = 0;
        ConsoleProgress.Run(progress => AtomicFile.WriteText(outPath, writer =>
        {
            writer.WriteLine("lead_id,probability,ranking_score,score,grade,p_yes" + (explain ? ",reasons_up,reasons_down" : ""));
            foreach (var chunk in leads.Leads.Chunk(scorer.BatchSize * 4))
            {
                var explained = explain ? scorer.Explain(chunk) : null;
                var scores = explained?.Select(e => e.Score).ToList() ?? scorer.ScoreBatch(chunk);
                for (int i = 0; i < scores.Count; i++)
                {
                    var s = scores[i];
                    string reasons = explained is null ? "" : $",{CsvField(Reasons(explained[i].Positive))},{CsvField(Reasons(explained[i].Negative))}";
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.LeadId},{s.Probability:G6},{s.RankingScore:G6},{s.Score},{s.Grade},{s.YesProbability:G6}{reasons}"));
                }
                int before = done;
                done += chunk.Length;
                progress.Count("scored", "leads", done, before, leads.Leads.Count, clock.Elapsed.TotalSeconds);
            }
        }), onError: true);
        Console.WriteLine($"wrote {done} scores to {outPath} ({done / clock.Elapsed.TotalSeconds:F1} leads/s; {leads.Skipped.Count} bad rows skipped)");
        return 0;
    }

    /// <summary>Reasons as one field: <c>channel=referral +0.41; "Asked about financing." +0.22</c> (contributions in log-odds).</summary>
    private static string Reasons(IReadOnlyList<ScoreReason> reasons) => string.Join("; ", reasons.Select(r =>
        string.Create(CultureInfo.InvariantCulture, $"{(r.Kind == ScoreExplanations.FeatureKind ? $"{r.Name}={r.Value}" : $"\"{r.Name}\"")} {r.Contribution:+0.000;-0.000}")));

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The eval row name of an adapter: LeadEngine and the model its probability comes from.</summary>
    private static string AdapterRowName(string adapterDir, string label = "LeadEngine") => TrainingRecord.Load(adapterDir)?.Scorer switch
    {
        TrainingRecord.BlendScorer => $"{label} (default: stacked + LightGBM blend)",
        TrainingRecord.StackedScorer => $"{label} (default: stacked)",
        TrainingRecord.TreesScorer => $"{label} (default: LightGBM alone)",
        _ => $"{label} (LLM heads)",
    };

    public static int Eval(CliArgs a)
    {
        string adapterDir = a.Required("adapter"), data = a.Required("data");
        string report = a.Optional("report", Path.Combine(adapterDir, "report"))!;
        var (modelDir, funnel, columns) = FromAdapter(a, adapterDir);
        bool skip = a.Flag("skip-bad-rows");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        var (train, test, _) = LeadPipeline.LoadAndSplit(data, funnel, skip, columns);
        using var device = ComputeDevice.Open(kind);
        var scores = LeadPipeline.Score(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device, test);
        var metrics = ModelComparison.Evaluate([(AdapterRowName(adapterDir), scores)], train, test, funnel, report);
        ConsoleTables.Metrics(metrics, test.Count, test.Count(l => l.Converted == 1));
        Console.WriteLine($"report: {Path.Combine(report, "report.md")} (gains, lift, calibration and distribution as PNG and SVG, report.json)");
        return 0;
    }

    public static int Demo(CliArgs a)
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
        var runs = new List<(string Name, IReadOnlyList<LeadScore> Scores)>();
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
            runs.Add((AdapterRowName(outDir, label), scores));
        }
        var metrics = ModelComparison.Evaluate(runs, train, test, funnel, Path.Combine(root, "report"));
        Console.WriteLine();
        ConsoleTables.Metrics(metrics, test.Count, test.Count(l => l.Converted == 1));
        Console.WriteLine($"report with gains and calibration charts: {Path.Combine(root, "report", "report.md")}; total {total.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
