using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.TrainingArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine train-batches</c>: Train LoRA + score heads with BCE + HPRO + LM on golden-format batch files (the objective's trainer, without lead files).</summary>
internal static class TrainBatchesCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("train-batches", "Train LoRA + score heads with BCE + HPRO + LM on golden-format batch files (the objective's trainer, without lead files).", Run,
        Text("model", "model folder", required: true), Many("batch", "a batch file (repeatable)", required: true),
            Text("out", "checkpoint folder", required: true), Many("eval-batch", "an evaluation batch file (repeatable)"), Int("steps", "default 100"),
            Number("lr", "default 1e-3"), Number("lora-ratio", "head rate / LoRA rate (default 20)"), Int("rank", "default 8"), Number("alpha", "default 16"),
            Text("targets", "LoRA targets, comma separated (default q_proj,...,down_proj)"), Int("warmup", "default 10"),
            Text("schedule", "cosine, linear or constant (default cosine)"), Int("accumulate", "gradient accumulation steps (default 1)"),
            Number("clip", "global gradient norm clip (default 1.0)"), Number("weight-decay", "default 0.01"), Text("loss-weights", "default 1,0.5,0.2"),
            Int("eval-every", "default 10"), Int("save-every", "default 0: at the end only"), Text("resume", "checkpoint folder to resume from"),
            Switch("recompute", "recompute activations in the backward pass"), Int("seed", "default 1"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
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
}
