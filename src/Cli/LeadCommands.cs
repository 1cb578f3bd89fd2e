using System.Diagnostics;
using System.Globalization;
using LeadEngine.Engine;
using LeadEngine.Engine.Leads;
using LeadEngine.Kernels;
using LeadEngine.Training;
using LeadEngine.Training.Evaluation;

namespace LeadEngine.Cli;

/// <summary>Commands over lead data.</summary>
internal static class LeadCommands
{
    public static int GenerateLeads(CliArgs a)
    {
        string path = a.Required("out");
        int count = a.Int("count", 20000), seed = a.Int("seed", 1);
        a.RejectUnknown();
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
        string? funnelPath = a.Optional("funnel");
        int budget = a.Int("budget", 2000);
        string? modelDir = a.Optional("model");
        a.RejectUnknown();
        var funnel = funnelPath is null ? FunnelConfig.Automotive : FunnelConfig.Load(funnelPath);
        var data = LeadDataReader.Read(path, funnel, requireOutcome: false);
        var lead = id is null ? data.Leads.FirstOrDefault() : data.Leads.FirstOrDefault(l => l.Id == id);
        if (lead is null) throw new ArgumentException(id is null ? $"{path}: no leads" : $"{path}: no lead '{id}'");
        var builder = new PromptBuilder(QwenTokenizer.ForModel(modelDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!), new PromptOptions { TokenBudget = budget });
        var prompt = builder.Build(lead);
        Console.Write(prompt.Text);
        Console.Error.WriteLine($"[{prompt.Ids.Length} tokens{(prompt.DialogueTruncated ? ", dialogue truncated" : "")}; answer tokens Yes={builder.YesTokenId} No={builder.NoTokenId}]");
        return 0;
    }

    private static FunnelConfig Funnel(CliArgs a) => a.Optional("funnel") is { } path ? FunnelConfig.Load(path) : FunnelConfig.Automotive;

    public static int Train(CliArgs a)
    {
        string modelDir = a.Required("model"), data = a.Required("data"), outDir = a.Required("out");
        var funnel = Funnel(a);
        var options = new LeadTrainingOptions
        {
            Epochs = a.Int("epochs", 1), BatchSize = a.Int("batch-size", 16), Rank = a.Int("rank", 8), Seed = a.Int("seed", 1),
            LearningRate = a.Double("lr", 3e-3), Recompute = a.Flag("recompute"),
            Weights = TrainingCommands.ParseWeights(a.Optional("loss-weights", "1,0.5,0.2")!),
        };
        options = options with { Alpha = 2f * options.Rank };
        bool skip = a.Flag("skip-bad-rows");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
        var (train, test, skipped) = LeadPipeline.LoadAndSplit(data, funnel, skip);
        Console.WriteLine($"{data}: {train.Count + test.Count} leads ({skipped} bad rows skipped); training on the first {train.Count} by time, {test.Count} held out for eval");
        using var device = ComputeDevice.Open(kind);
        var tokenizer = QwenTokenizer.ForModel(modelDir);
        var progress = new ProgressBar(Console.Out, !Console.IsOutputRedirected);
        LeadPipeline.TrainAndCalibrate(modelDir, tokenizer, device, train, funnel, options, outDir, progress.Report);
        progress.Line($"saved adapter, heads, optimizer state and score percentiles to {outDir}");
        return 0;
    }

    public static int Score(CliArgs a)
    {
        string modelDir = a.Required("model"), adapterDir = a.Required("adapter"), data = a.Required("data"), outPath = a.Required("out");
        var funnel = Funnel(a);
        bool skip = a.Flag("skip-bad-rows");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
        var leads = LeadDataReader.Read(data, funnel, requireOutcome: false, skip);
        using var device = ComputeDevice.Open(kind);
        using var scorer = LeadScorer.Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device);
        var clock = Stopwatch.StartNew();
        int done = 0;
        AtomicFile.WriteText(outPath, writer =>
        {
            writer.WriteLine("lead_id,probability,ranking_score,score,grade,p_yes");
            foreach (var chunk in leads.Leads.Chunk(scorer.BatchSize * 4))
            {
                foreach (var s in scorer.ScoreBatch(chunk))
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.LeadId},{s.Probability:G6},{s.RankingScore:G6},{s.Score},{s.Grade},{s.YesProbability:G6}"));
                done += chunk.Length;
                double rate = done / clock.Elapsed.TotalSeconds;
                Console.Error.Write($"\rscored {done}/{leads.Leads.Count} leads | {rate:F1} leads/s | ETA {TimeSpan.FromSeconds((leads.Leads.Count - done) / Math.Max(rate, 1e-9)):hh\\:mm\\:ss}");
            }
        });
        Console.Error.WriteLine();
        Console.WriteLine($"wrote {done} scores to {outPath} ({done / clock.Elapsed.TotalSeconds:F1} leads/s; {leads.Skipped.Count} bad rows skipped)");
        return 0;
    }

    public static int Eval(CliArgs a)
    {
        string modelDir = a.Required("model"), adapterDir = a.Required("adapter"), data = a.Required("data");
        string report = a.Optional("report", Path.Combine(adapterDir, "report"))!;
        var funnel = Funnel(a);
        bool skip = a.Flag("skip-bad-rows");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
        var (train, test, _) = LeadPipeline.LoadAndSplit(data, funnel, skip);
        using var device = ComputeDevice.Open(kind);
        var scores = LeadPipeline.Score(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device, test);
        var metrics = LeadPipeline.Evaluate([("LeadEngine (LoRA + heads)", scores, true)], train, test, funnel, report);
        Console.Write(EvaluationReport.Markdown(metrics, test.Count, test.Count(l => l.Converted == 1)));
        Console.WriteLine($"report: {Path.Combine(report, "report.md")} (gains.svg, calibration.svg, report.json)");
        return 0;
    }

    public static int Demo(CliArgs a)
    {
        int count = a.Int("count", 20000), epochs = a.Int("epochs", 1);
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
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
        var runs = new List<(string Name, IReadOnlyList<LeadScore> Scores, bool RankByPairwise)>();
        foreach (var (name, weights, dir) in new[]
        {
            ("LeadEngine HPRO (BCE+HPRO+LM)", new LossWeights(1, 0.5, 0.2), "hpro"),
            ("LeadEngine without HPRO (BCE+LM)", new LossWeights(1, 0, 0.2), "no-hpro"),
        })
        {
            string outDir = Path.Combine(root, dir);
            var clock = Stopwatch.StartNew();
            var progress = new ProgressBar(Console.Out, !Console.IsOutputRedirected);
            Console.WriteLine($"training {name}");
            var scores = LeadPipeline.TrainAndCalibrate(modelDir, tokenizer, device, train, funnel, BuiltInModel.TrainingOptions(epochs, weights), outDir,
                progress.Report, score: test);
            Console.WriteLine($"  trained and scored in {clock.Elapsed.TotalSeconds:F0} s");
            runs.Add((name, scores, weights.Hpro > 0));
        }
        var metrics = LeadPipeline.Evaluate(runs, train, test, funnel, Path.Combine(root, "report"));
        Console.WriteLine();
        Console.Write(EvaluationReport.Markdown(metrics, test.Count, test.Count(l => l.Converted == 1)));
        Console.WriteLine($"report with gains and calibration charts: {Path.Combine(root, "report", "report.md")}; total {total.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}
