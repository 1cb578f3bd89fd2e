using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Training;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine profile</c>: Per-kernel table (calls, ms, % of step, GFLOP/s, GB/s) of a scoring forward or a training step.</summary>
internal static class ProfileCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("profile", "Per-kernel table (calls, ms, % of step, GFLOP/s, GB/s) of a scoring forward or a training step.", Run,
        Text("model", "model folder or qwen2.5-0.5b, qwen2.5-1.5b, qwen1.5-1.8b (random weights)", required: true), Switch("train", "profile a training step"),
            Int("batch", "default 8"), Int("seq", "default 256"), Int("steps", "default 3"), Int("rank", "default 8"), Device(), PrecisionOption());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = RepositoryPaths.ModelOrPreset(a.Required("model"));
        int batch = a.Int("batch", 8), seqLen = a.Int("seq", 256), steps = a.Int("steps", 3), rank = a.Int("rank", 8);
        bool train = a.Flag("train");
        if (batch < (train ? 2 : 1) || seqLen < 1 || steps < 1)
            throw new UsageException($"--batch must be at least {(train ? "2 (HPRO needs a pair)" : "1")}, --seq and --steps at least 1");

        using var device = OpenDevice(a);
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
}
