using System.Globalization;
using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Cli;

/// <summary>The <c>objective</c> and <c>train</c> commands.</summary>
internal static class TrainingCommands
{
    public static int Objective(CliArgs a)
    {
        string modelDir = a.Required("model");
        string adapterPath = a.Required("adapter");
        string batchPath = a.Required("batch");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        bool recompute = a.Flag("recompute");
        bool json = a.Flag("json");
        var golden = GoldenBatchFile.Read(batchPath);
        using var device = ComputeDevice.Open(kind);
        using var model = QwenModel.Load(modelDir, device);
        var (adapter, heads) = LoadAdapter(adapterPath, model, golden.LoraAlpha);
        using (adapter)
        using (heads)
        {
            if (adapter.Rank != golden.LoraRank)
                throw new ArgumentException($"{adapterPath}: LoRA rank {adapter.Rank} but {batchPath} says rank {golden.LoraRank}");
            var loss = new LeadObjective(golden.Weights).Evaluate(model, adapter, heads, golden.Batch, backward: true, recompute);
            var norms = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var set in new[] { adapter.Parameters, heads.Parameters })
                foreach (var entry in set.Entries)
                    norms[entry.Name] = Math.Sqrt(set.ReadGradient(entry).Sum(g => (double)g * g));
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    loss = new { bce = loss.Bce, hpro = loss.Hpro, lm = loss.Lm, total = loss.Total },
                    grad_norm = norms,
                }));
            }
            else
            {
                Console.WriteLine($"loss  bce {loss.Bce:F6}  hpro {loss.Hpro:F6}  lm {loss.Lm:F6}  total {loss.Total:F6}");
                foreach (var (name, norm) in norms) Console.WriteLine($"  |d {name}| = {norm:G6}");
            }
        }
        return 0;
    }

    /// <summary>A checkpoint folder, or a .safetensors file holding LoRA tensors and heads.</summary>
    private static (LoraAdapter, ScoreHeads) LoadAdapter(string path, QwenModel model, float? alpha)
    {
        if (Directory.Exists(path)) return AdapterCheckpoint.Load(path, model);
        bool hasConfig = File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, AdapterCheckpoint.ConfigFile));
        var adapter = LoraAdapter.Load(path, model.Config, model.Device, hasConfig ? null : alpha);
        try
        {
            return (adapter, ScoreHeads.Load(path, model.Config, model.Device));
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }

    public static int Train(CliArgs a)
    {
        string modelDir = a.Required("model");
        string outDir = a.Required("out");
        var batchFiles = a.All("batch");
        var evalFiles = a.All("eval-batch");
        if (batchFiles.Count == 0) throw new UsageException("train needs at least one --batch file (golden.json format)");
        int steps = a.Int("steps", 100), rank = a.Int("rank", 8), warmup = a.Int("warmup", 10), accumulate = a.Int("accumulate", 1);
        int evalEvery = a.Int("eval-every", 10), saveEvery = a.Int("save-every", 0), seed = a.Int("seed", 1);
        double lr = a.Double("lr", 1e-3), ratio = a.Double("lora-ratio", 20), clip = a.Double("clip", 1.0), decay = a.Double("weight-decay", 0.01);
        float alpha = (float)a.Double("alpha", 2.0 * rank);
        var targets = (a.Optional("targets") ?? "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LoraAdapter.ParseTarget).ToList();
        var schedule = a.Optional("schedule", "cosine") switch
        {
            "cosine" => DecayKind.Cosine,
            "linear" => DecayKind.Linear,
            "constant" => DecayKind.Constant,
            var other => throw new UsageException($"--schedule must be cosine, linear or constant, got '{other}'"),
        };
        var weights = ParseWeights(a.Optional("loss-weights", "1,0.5,0.2")!);
        string? resume = a.Optional("resume");
        bool recompute = a.Flag("recompute");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (steps < 1 || accumulate < 1 || rank < 1) throw new UsageException("--steps, --accumulate and --rank must be positive");

        var train = batchFiles.Select(f => GoldenBatchFile.Read(f).Batch).ToList();
        var eval = evalFiles.Select(f => GoldenBatchFile.Read(f).Batch).ToList();
        using var device = ComputeDevice.Open(kind);
        using var model = QwenModel.Load(modelDir, device);
        var (adapter, heads) = resume is null
            ? (LoraAdapter.Create(model.Config, device, rank, alpha, targets, seed), ScoreHeads.Create(model.Config, device, seed))
            : AdapterCheckpoint.Load(resume, model);
        using (adapter)
        using (heads)
        {
            var options = new AdamWOptions
            {
                LearningRate = lr, LoraRateDivisor = ratio, MaxGradNorm = clip, WeightDecay = decay,
                Schedule = new LearningRateSchedule(warmup, steps, schedule),
            };
            using var optimizer = new AdamW(options, adapter.Parameters, heads.Parameters);
            if (resume is not null) optimizer.Load(Path.Combine(resume, AdapterCheckpoint.OptimizerFile));
            var trainer = new Trainer(model, adapter, heads, new LeadObjective(weights), optimizer, new TrainerOptions
            {
                Steps = steps, Accumulate = accumulate, EvalEvery = evalEvery, SaveEvery = saveEvery,
                OutputDirectory = outDir, Recompute = recompute, Seed = seed, BaseModel = Path.GetFullPath(modelDir),
            });
            Console.WriteLine($"training LoRA r={adapter.Rank} alpha={adapter.Alpha} on {string.Join(",", adapter.Targets.Select(LoraAdapter.ShortName))} " +
                $"({adapter.Parameters.Count:N0} parameters) + score heads; {train.Count} batch(es), device {device.Kind}; lr {lr:G3} (LoRA {lr / ratio:G3})");
            ConsoleProgress.Run(progress =>
            {
                foreach (var report in trainer.Run(train, eval))
                {
                    progress.Report(report);
                    if (report.Eval is { } e)
                        progress.Line($"eval @ {report.Step}: total {e.Total:F4} (bce {e.Bce:F4}, hpro {e.Hpro:F4}, lm {e.Lm:F4})");
                }
            });
            Console.WriteLine($"saved adapter, heads and optimizer state to {outDir}");
        }
        return 0;
    }

    /// <summary>Parses <c>--loss-weights bce,hpro,lm</c>.</summary>
    internal static LossWeights ParseWeights(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new UsageException($"--loss-weights must be three numbers bce,hpro,lm; got '{text}'");
        var w = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new LossWeights(w[0], w[1], w[2]);
    }
}
