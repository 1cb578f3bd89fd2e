using System.Diagnostics;
using LeadEngine.Engine;
using LeadEngine.Engine.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LeadEngine.Bench;

/// <summary>
/// End-to-end scoring throughput, LeadEngine beside ONNX Runtime on the same weights in one process:
/// <c>bench e2e [--model tiny|qwen2.5-0.5b|qwen2.5-1.5b|DIR] [--seq 256,512,2000] [--batch 1,8,32]
/// [--max-gflop G] [--seconds S]</c>. Both score a LoRA-adapted model with heads (ONNX with the
/// adapter merged) on identical random token ids; outputs are checked to agree before timing.
/// </summary>
public static class EndToEndBenchmark
{
    public static int Run(string[] args)
    {
        var options = Options(args);
        string modelName = options.GetValueOrDefault("model", "tiny");
        var seqs = Ints(options.GetValueOrDefault("seq", "256,512,2000"));
        var batches = Ints(options.GetValueOrDefault("batch", "1,8,32"));
        double seconds = double.Parse(options.GetValueOrDefault("seconds", "3"), System.Globalization.CultureInfo.InvariantCulture);
        var device = KernelBenchmark.Device;
        // ONNX Runtime always runs on the CPU here (no GPU package is served), and billion-parameter shapes
        // take minutes per large batch there: cap the work per call by the core count unless asked.
        double maxGflop = options.TryGetValue("max-gflop", out var cap)
            ? double.Parse(cap, System.Globalization.CultureInfo.InvariantCulture)
            : 500.0 * Environment.ProcessorCount;

        string modelDir = modelName == "tiny" ? RepositoryPaths.DefaultModel() : RepositoryPaths.ModelOrPreset(modelName);
        var config = QwenConfig.Load(modelDir);
        using var model = QwenModel.Load(modelDir, device);
        using var adapter = LoraAdapter.Create(config, device, rank: 8, alpha: 16, LoraAdapter.AllTargets, seed: 1);
        RandomizeLoraB(adapter);
        using var heads = ScoreHeads.Create(config, device, seed: 1);
        int[] answers = config.BenchmarkAnswerTokenIds();

        string onnxPath = Path.Combine(Path.GetTempPath(), $"leadengine-e2e-{Path.GetFileName(Path.GetFullPath(modelDir))}.onnx");
        var clock = Stopwatch.StartNew();
        OnnxExport.Write(onnxPath, modelDir, answers, adapter, heads, maxSequence: Math.Max(64, seqs.Max()));
        adapter.Freeze(); // scoring only, as the export merges it: the CPU backend folds it into its packed weights too
        Console.WriteLine($"exported {onnxPath} in {clock.Elapsed.TotalSeconds:F1} s");
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Environment.ProcessorCount,
        };
        using var session = new InferenceSession(onnxPath, sessionOptions);

        Console.WriteLine($"model {modelName} ({config.Layers} layers, hidden {config.HiddenSize}, heads {config.Heads}/{config.KvHeads}), " +
            $"LeadEngine on {device.Kind} ({device.Accelerator.Name}) vs ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU, {Environment.ProcessorCount} threads each");
        Console.WriteLine();
        Console.WriteLine("| seq | batch | LeadEngine ms | ORT ms | LeadEngine leads/s | ORT leads/s | LeadEngine tokens/s | ORT tokens/s | ratio (LeadEngine/ORT) | max rel. diff |");
        Console.WriteLine("|----:|------:|--------------:|-------:|-------------------:|------------:|--------------------:|-------------:|-----------------------:|--------------:|");
        foreach (int seq in seqs)
            foreach (int batch in batches)
            {
                double gflop = ForwardGflop(config, batch, seq);
                if (gflop > maxGflop)
                {
                    Console.WriteLine($"| {seq} | {batch} | skipped: {gflop:F0} GFLOP per call > --max-gflop {maxGflop} | | | | | | | |");
                    continue;
                }
                var rng = new Random(seq * 31 + batch);
                var sequences = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, seq).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToArray();
                var forward = new ForwardOptions { Adapter = adapter, Heads = heads, LogitTokenIds = answers };
                ForwardResult ours = model.Forward(sequences, forward);

                var ids = new DenseTensor<long>(sequences.SelectMany(s => s.Select(t => (long)t)).ToArray(), [batch, seq]);
                var lengths = new DenseTensor<long>(Enumerable.Repeat((long)seq, batch).ToArray(), [batch]);
                var inputs = new[] { NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("lengths", lengths) };
                float[] ortLogits = [], ortScores = [];
                void RunOrt()
                {
                    using var results = session.Run(inputs);
                    ortLogits = results.First(r => r.Name == "answer_logits").AsEnumerable<float>().ToArray();
                    ortScores = results.First(r => r.Name == "scores").AsEnumerable<float>().ToArray();
                }
                RunOrt();
                var (oursMs, ortMs, ratio) = TimeInterleaved(() => ours = model.Forward(sequences, forward), RunOrt, seconds);

                double diff = 0;
                for (int b = 0; b < batch; b++)
                {
                    diff = Math.Max(diff, RelDiff(ours.LastLogits[b][0], ortLogits[2 * b]));
                    diff = Math.Max(diff, RelDiff(ours.LastLogits[b][1], ortLogits[2 * b + 1]));
                    diff = Math.Max(diff, RelDiff(ours.Heads!.PointwiseLogits[b], ortScores[2 * b]));
                    diff = Math.Max(diff, RelDiff(ours.Heads!.PairwiseScores[b], ortScores[2 * b + 1]));
                }
                string agree = diff <= 1e-3 ? $"{diff:E1}" : $"{diff:E1} MISMATCH";
                Console.WriteLine($"| {seq} | {batch} | {oursMs:F1} | {ortMs:F1} | {batch * 1000 / oursMs:F1} | {batch * 1000 / ortMs:F1} | " +
                    $"{(double)batch * seq * 1000 / oursMs:F0} | {(double)batch * seq * 1000 / ortMs:F0} | {ratio:F2}x | {agree} |");
            }
        return 0;
    }

    /// <summary>Forward FLOPs of a batch in GFLOP: the layers' projections and the causal attention products.</summary>
    private static double ForwardGflop(QwenConfig c, int batch, int seq)
    {
        double projections = (double)c.HiddenSize * (2 * c.Heads + 2 * c.KvHeads) * c.HeadDim + 3.0 * c.HiddenSize * c.IntermediateSize;
        return c.Layers * (2 * projections * batch * seq + 2.0 * batch * c.Heads * seq * seq * c.HeadDim) / 1e9;
    }

    /// <summary>
    /// Times the two engines in alternating rounds (at least three, about <paramref name="seconds"/> per
    /// engine in all): in each round an engine makes one untimed call, then timed calls for at least a
    /// quarter second. Returns the median over rounds of each engine's ms per call and of the rounds'
    /// ratios (ORT ms / ours). Shared VMs drift by ±20% over seconds, and alternating puts both engines
    /// under the same drift; the untimed call keeps out the other engine's idle threads, which both
    /// runtimes let spin for a few ms after a call.
    /// </summary>
    private static (double OursMs, double OrtMs, double Ratio) TimeInterleaved(Action ours, Action ort, double seconds)
    {
        var (oursMs, ortMs, ratios) = (new List<double>(), new List<double>(), new List<double>());
        var total = Stopwatch.StartNew();
        while (ratios.Count < 3 || total.Elapsed.TotalSeconds < 2 * seconds)
        {
            oursMs.Add(Round(ours));
            ortMs.Add(Round(ort));
            ratios.Add(ortMs[^1] / oursMs[^1]);
        }
        return (Median(oursMs), Median(ortMs), Median(ratios));

        static double Round(Action action)
        {
            action();
            long start = Stopwatch.GetTimestamp();
            int calls = 0;
            do
            {
                action();
                calls++;
            }
            while (Stopwatch.GetElapsedTime(start).TotalSeconds < 0.25);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
        }

        static double Median(List<double> values)
        {
            values.Sort();
            int mid = values.Count / 2;
            return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
        }
    }

    /// <summary>|a − b| relative to the larger magnitude, floored at 1 (logits near zero compare absolutely).</summary>
    private static double RelDiff(float a, float b) => Math.Abs(a - b) / Math.Max(1.0, Math.Max(Math.Abs(a), Math.Abs(b)));

    /// <summary>LoRA B starts at zero; give it values so the merged ONNX weights differ from the base and the check covers the adapter.</summary>
    private static void RandomizeLoraB(LoraAdapter adapter)
    {
        var values = adapter.Parameters.ReadAllValues();
        var rng = new Random(2);
        foreach (var entry in adapter.Parameters.Entries.Where(e => e.Name.Contains("lora_B", StringComparison.Ordinal)))
            for (long i = entry.Offset; i < entry.Offset + entry.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * 0.02f;
        adapter.Parameters.WriteAllValues(values);
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"e2e: expected --name value pairs, got '{args[i]}'");
            options[args[i][2..]] = args[++i];
        }
        return options;
    }

    private static int[] Ints(string text) => text.Split(',').Select(int.Parse).ToArray();
}
