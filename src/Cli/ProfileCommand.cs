using System.Diagnostics;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Cli;

/// <summary>
/// Commands for performance work. <c>leadengine profile</c>: times a scoring forward pass or a LoRA+heads training step per kernel
/// (calls, total ms, share of the step, achieved GFLOP/s and GB/s) on random token ids.
/// <c>leadengine export-onnx</c>: the scorer as an ONNX graph for ONNX Runtime comparisons.
/// </summary>
internal static class ProfileCommand
{
    public static int Run(CliArgs a)
    {
        string modelDir = RepositoryPaths.ModelOrPreset(a.Required("model"));
        int batch = a.Int("batch", 8), seqLen = a.Int("seq", 256), steps = a.Int("steps", 3), rank = a.Int("rank", 8);
        bool train = a.Flag("train");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (batch < (train ? 2 : 1) || seqLen < 1 || steps < 1)
            throw new UsageException($"--batch must be at least {(train ? "2 (HPRO needs a pair)" : "1")}, --seq and --steps at least 1");

        using var device = ComputeDevice.Open(kind);
        using var model = QwenModel.Load(modelDir, device);
        var c = model.Config;
        using var adapter = LoraAdapter.Create(c, device, rank, 2f * rank, LoraAdapter.AllTargets, seed: 1);
        using var heads = ScoreHeads.Create(c, device, seed: 1);
        var rng = new Random(1);
        var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, seqLen).Select(_ => rng.Next(c.VocabSize)).ToArray()).ToArray();
        var answers = c.BenchmarkAnswerTokenIds();
        var objectiveBatch = new ObjectiveBatch
        {
            Sequences = sequences,
            Labels = Enumerable.Range(0, batch).Select(i => i % 2).ToArray(),
            Pairs = Enumerable.Range(0, batch / 2).Select(i => new PreferencePair(2 * i + 1, 2 * i, i % 3)).ToArray(),
            YesTokenId = answers[0],
            NoTokenId = answers[1],
        };
        if (!train) adapter.Freeze(); // as a LeadScorer's: folded into the CPU backend's packed weights
        var objective = new LeadObjective(new LossWeights());
        var forward = new ForwardOptions { Adapter = adapter, Heads = heads, LogitTokenIds = answers };
        Action step = train
            ? () => objective.Evaluate(model, adapter, heads, objectiveBatch, backward: true)
            : () => model.Forward(sequences, forward);

        step(); // compiles the kernels
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        double stepMs = clock.Elapsed.TotalMilliseconds / steps;

        var profiler = new KernelProfiler();
        device.Profiler = profiler;
        clock.Restart();
        for (int i = 0; i < steps; i++) step();
        double profiledMs = clock.Elapsed.TotalMilliseconds / steps;
        device.Profiler = null;

        int tokens = batch * seqLen;
        Console.WriteLine($"{(train ? "training step (forward + backward, LoRA r=" + rank + " + heads)" : "scoring forward (frozen LoRA + heads, 2 answer logits)")}: " +
            $"{modelDir}, batch {batch} × {seqLen} tokens, {device.Kind} ({device.Accelerator.Name})");
        Console.WriteLine($"step {stepMs:F1} ms ({tokens / stepMs * 1000:F0} tokens/s, {batch / stepMs * 1000:F1} leads/s); " +
            $"profiled step {profiledMs:F1} ms (synchronizes around every launch); mean of {steps}");
        Console.WriteLine();
        Console.WriteLine($"| {"kernel",-26} | {"calls",6} | {"ms/step",9} | {"% step",6} | {"GFLOP/s",9} | {"GB/s",8} |");
        Console.WriteLine($"|{new string('-', 28)}|{new string('-', 8)}|{new string('-', 11)}|{new string('-', 8)}|{new string('-', 11)}|{new string('-', 10)}|");
        double timed = 0;
        foreach (var t in profiler.Timings)
        {
            timed += t.Milliseconds;
            Console.WriteLine($"| {t.Name,-26} | {t.Calls / steps,6} | {t.Milliseconds / steps,9:F2} | {100 * t.Milliseconds / steps / profiledMs,6:F1} | " +
                $"{(t.Flops > 0 ? t.GflopsPerSecond.ToString("F1") : "-"),9} | {t.GigabytesPerSecond,8:F1} |");
        }
        double rest = profiledMs - timed / steps;
        Console.WriteLine($"| {"(untimed host work)",-26} | {"",6} | {rest,9:F2} | {100 * rest / profiledMs,6:F1} | {"",9} | {"",8} |");
        Console.WriteLine();
        Console.WriteLine("FLOP and byte counts are per-operation models (attention counts the padded causal square); host.* rows are host-side phases.");
        return 0;
    }

    public static int ExportOnnx(CliArgs a)
    {
        string modelDir = RepositoryPaths.ModelOrPreset(a.Required("model")), outPath = a.Required("out");
        string? adapterDir = a.Optional("adapter");
        int maxSeq = a.Int("max-seq", 2048);
        var prompts = new LeadScoring.PromptBuilder(QwenTokenizer.ForModel(modelDir));
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        LoraAdapter? adapter = null;
        ScoreHeads? heads = null;
        if (adapterDir is not null)
        {
            using var model = QwenModel.Load(modelDir, device);
            (adapter, heads) = AdapterCheckpoint.Load(adapterDir, model);
        }
        using (adapter)
        using (heads)
        {
            var clock = Stopwatch.StartNew();
            Engine.Onnx.OnnxExport.Write(outPath, modelDir, [prompts.YesTokenId, prompts.NoTokenId], adapter, heads, maxSeq);
            Console.WriteLine($"wrote {outPath} and {outPath}.data in {clock.Elapsed.TotalSeconds:F1} s: inputs input_ids [batch, seq] int64 (right-padded), " +
                $"lengths [batch] int64; outputs answer_logits [batch, 2] (Yes, No){(heads is null ? "" : ", scores [batch, 2] (pointwise, pairwise)")}");
        }
        return 0;
    }
}
