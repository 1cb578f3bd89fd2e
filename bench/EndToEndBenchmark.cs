using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.Engine.Gguf;
using LeadEngine.Engine.Onnx;
using LeadEngine.Kernels;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LeadEngine.Bench;

/// <summary>
/// End-to-end scoring throughput, LeadEngine beside its peers on the same weights in one process:
/// <c>bench e2e [--model tiny|qwen2.5-0.5b|qwen2.5-1.5b|DIR] [--seq 256,512,2000] [--batch 1,8,32]
/// [--precisions f32,bf16,int8] [--peers onnxruntime,llama.cpp] [--llama-types f32,bf16,q8_0] [--threads N] [--max-gflop G] [--seconds S]
/// [--memory true|false] [--only ENGINE:PRECISION] [--json FILE]</c>.
/// Every engine scores a LoRA-adapted model (ONNX Runtime and llama.cpp with the adapter merged into their export) on
/// identical random token ids, with the same thread count; outputs are checked against LeadEngine's before timing, and
/// the engines are timed in alternating rounds. Each row has its GFLOP/s against the measured peak of its instruction
/// mix (<see cref="InstructionPeak"/>) and, from a child process per engine and shape, its peak resident memory. llama.cpp (<see cref="LlamaCppPeer"/>) is skipped, saying so, where
/// <c>scripts/llama-cpp.sh</c> has not installed it.
/// </summary>
public static class EndToEndBenchmark
{
    public static int Run(string[] args)
    {
        var options = Options(args);
        string modelName = options.GetValueOrDefault("model", "tiny");
        var seqs = Ints(options.GetValueOrDefault("seq", "256,512,2000"));
        var batches = Ints(options.GetValueOrDefault("batch", "1,8,32"));
        double seconds = double.Parse(options.GetValueOrDefault("seconds", "3"), CultureInfo.InvariantCulture);
        var peers = Names(options.GetValueOrDefault("peers", "onnxruntime,llama.cpp"), "peer", "onnxruntime", "llama.cpp");
        var ourPrecisions = Names(options.GetValueOrDefault("precisions", "f32,bf16,int8"), "precision", "f32", "bf16", "int8");
        var llamaTypes = Names(options.GetValueOrDefault("llama-types", "f32,bf16,q8_0"), "llama.cpp type", "f32", "bf16", "q8_0");
        int threads = int.Parse(options.GetValueOrDefault("threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        if (threads != Environment.ProcessorCount)
            throw new ArgumentException($"e2e: --threads {threads}, but LeadEngine uses every core .NET sees ({Environment.ProcessorCount}): run with DOTNET_PROCESSOR_COUNT={threads}");
        var device = KernelBenchmark.Device;
        // The peers run on the CPU here, and billion-parameter shapes take minutes per large batch there:
        // cap the work per call by the core count unless asked.
        double maxGflop = options.TryGetValue("max-gflop", out var cap)
            ? double.Parse(cap, CultureInfo.InvariantCulture)
            : 500.0 * Environment.ProcessorCount;

        // --only ENGINE:PRECISION: that engine alone, one call per shape, then its peak resident memory (what --memory,
        // on by default, runs in a child process per engine and shape after the race).
        string? only = options.GetValueOrDefault("only");
        bool memory = only is null && options.GetValueOrDefault("memory", "true") != "false";
        bool Wanted(string engine, string precision) => only is null || only == $"{engine}:{precision}";

        string modelDir = modelName == "tiny" ? RepositoryPaths.DefaultModel() : RepositoryPaths.ModelOrPreset(modelName);
        var config = QwenConfig.Load(modelDir);
        // The instruction mixes' ceilings first, on idle cores.
        var peaks = only is not null ? [] : Enum.GetValues<InstructionMix>().ToDictionary(mix => mix, mix => InstructionPeak.Measure(mix, threads));
        using var model = only is null || only.StartsWith("leadengine:", StringComparison.Ordinal) ? QwenModel.Load(modelDir, device) : null;
        using var adapter = LoraAdapter.Create(config, device, rank: 8, alpha: 16, LoraAdapter.AllTargets, seed: 1);
        RandomizeLoraB(adapter);
        using var heads = ScoreHeads.Create(config, device, seed: 1);
        int[] answers = config.BenchmarkAnswerTokenIds();

        var forward = new ForwardOptions { Adapter = adapter, Heads = heads, LogitTokenIds = answers };
        // LeadEngine's f32 row comes first: the others are compared with it and timed against it.
        var contenders = new List<Contender>();
        foreach (string precision in ourPrecisions.Where(p => p != "f32").Prepend("f32").Where(p => Wanted("leadengine", p)))
            contenders.Add(new LeadEngineContender(model!, forward, device, ComputeDevice.ParsePrecision(precision)));
        string exportStem = Path.Combine(Path.GetTempPath(), $"leadengine-e2e-{Path.GetFileName(Path.GetFullPath(modelDir))}");
        try
        {
            if (peers.Contains("onnxruntime") && Wanted("onnxruntime", "f32"))
            {
                string path = exportStem + ".onnx";
                Exported(path, () => OnnxExport.Write(path, modelDir, answers, adapter, heads, Math.Max(64, seqs.Max())), reuse: only is not null);
                contenders.Add(new OrtContender(path, threads));
            }
            if (peers.Contains("llama.cpp"))
            {
                if (LlamaCppPeer.FindLibraries() is not { } libraries)
                    Console.WriteLine("llama.cpp: not installed (scripts/llama-cpp.sh installs its prebuilt CPU build); no llama.cpp rows");
                else
                {
                    var tokenizer = QwenTokenizerFiles.Read(QwenTokenizer.DirectoryForModel(modelDir));
                    foreach (string type in llamaTypes.Where(t => Wanted("llama.cpp", LlamaCppContender.PrecisionOf(t))))
                    {
                        try
                        {
                            string path = $"{exportStem}-{type}.gguf";
                            var format = GgufExport.ParseType(type) ?? throw new ArgumentException($"llama.cpp type {type}");
                            Exported(path, () => GgufExport.Write(path, modelDir, tokenizer, format, adapter), reuse: only is not null);
                            contenders.Add(new LlamaCppContender(libraries, path, type, answers, threads));
                        }
                        catch (ArgumentException e)
                        {
                            Console.WriteLine($"llama.cpp {type}: no rows: {e.Message}");
                        }
                    }
                }
            }
            adapter.Freeze(); // scoring only, as the exports merge it: the CPU backend folds it into its packed weights too
            if (only is not null)
            {
                device.ScoringOnly = true; // one precision in this process: a scoring host's memory (the race shares one model among precisions)
                return PeakMemory(contenders, only, config, seqs, batches, maxGflop);
            }

            Console.WriteLine($"model {modelName} ({config.Layers} layers, hidden {config.HiddenSize}, heads {config.Heads}/{config.KvHeads}), " +
                $"LeadEngine on {device.Kind} ({device.Accelerator.Name}), {threads} threads for every engine; " +
                string.Join(", ", contenders.Where(c => c is not LeadEngineContender).Select(c => c.Describe()).Distinct()));
            Console.WriteLine("measured peaks on " + threads + " threads (an unrolled loop of the instruction, no memory): " +
                string.Join(", ", peaks.Select(p => $"{p.Key} {(p.Value is { } v ? $"{v:F0} GFLOP/s" : "n/a")}")));
            Console.WriteLine();
            Console.WriteLine("| seq | batch | engine | precision | ms per call | leads/s | tokens/s | its time ÷ LeadEngine f32's | max rel. diff to LeadEngine f32 | GFLOP/s | % of its mix's peak |");
            Console.WriteLine("|----:|------:|--------|-----------|------------:|--------:|---------:|--------------------:|----------------------------:|--------:|------:|");
            var rows = new List<Dictionary<string, object>>();
            foreach (int seq in seqs)
                foreach (int batch in batches)
                {
                    double gflop = ForwardGflop(config, batch, seq);
                    if (gflop > maxGflop)
                    {
                        Console.WriteLine($"| {seq} | {batch} | skipped: {gflop:F0} GFLOP per call > --max-gflop {maxGflop} | | | | | | |");
                        continue;
                    }
                    var sequences = RandomIds(config, seq, batch);
                    var diffs = new double[contenders.Count];
                    foreach (var contender in contenders) contender.Prepare(sequences);
                    var reference = contenders[0].Outputs();
                    for (int i = 1; i < contenders.Count; i++) diffs[i] = MaxRelDiff(reference, contenders[i].Outputs());
                    var (ms, speedups) = TimeInterleaved(contenders.Select(c => (Action)c.Call).ToArray(), seconds);
                    for (int i = 0; i < contenders.Count; i++)
                    {
                        var c = contenders[i];
                        double tokensPerSecond = (double)batch * seq * 1000 / ms[i];
                        // f32 engines must agree; reduced precision reports its error.
                        string agree = i == 0 ? "" : c.Precision == "f32" && diffs[i] > 1e-3 ? $"{diffs[i]:E1} MISMATCH" : $"{diffs[i]:E1}";
                        double gflops = gflop * 1000 / ms[i];
                        double? peak = peaks[InstructionPeak.Of(c.Precision)], share = peak is { } p ? 100 * gflops / p : null;
                        Console.WriteLine($"| {seq} | {batch} | {c.Engine} | {c.Precision} | {ms[i]:F1} | {batch * 1000 / ms[i]:F1} | {tokensPerSecond:F0} | {speedups[i]:F2}x | {agree} | {gflops:F0} | {(share is { } x ? $"{x:F0}%" : "n/a")} |");
                        rows.Add(new Dictionary<string, object>
                        {
                            ["engine"] = c.Engine, ["precision"] = c.Precision, ["seq"] = seq, ["batch"] = batch,
                            ["tokens_per_s"] = Math.Round(tokensPerSecond, 1), ["ms_per_call"] = Math.Round(ms[i], 2),
                            ["leadengine_speedup"] = Math.Round(speedups[i], 3), ["max_rel_diff"] = diffs[i],
                            ["gflop_per_s"] = Math.Round(gflops, 1), ["peak_gflop_per_s"] = peak is { } q ? Math.Round(q, 1) : null!,
                            ["pct_of_peak"] = share is { } r ? Math.Round(r, 1) : null!,
                        });
                    }
                }
            if (memory) ChildPeakMemory(rows, modelName, threads, maxGflop);
            if (options.TryGetValue("json", out var jsonPath))
            {
                var document = new Dictionary<string, object> { ["model"] = modelName, ["threads"] = threads, ["rows"] = rows };
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
                Console.WriteLine($"wrote {jsonPath}");
            }
        }
        finally
        {
            foreach (var contender in contenders) contender.Dispose();
        }
        return 0;
    }

    /// <summary>An engine in the race: made ready for a batch's shape, then called; its outputs are compared with LeadEngine's.</summary>
    private abstract class Contender(string engine, string precision) : IDisposable
    {
        public string Engine { get; } = engine;
        public string Precision { get; } = precision;

        /// <summary>Makes the engine ready for <paramref name="sequences"/> and runs it once (the outputs compared).</summary>
        public abstract void Prepare(int[][] sequences);

        /// <summary>One timed call on the prepared batch.</summary>
        public abstract void Call();

        /// <summary>The answer tokens' logits per sequence ([b·answers]), and the two heads' outputs ([b·2]) where the engine has them.</summary>
        public abstract (float[] Answers, float[]? Scores) Outputs();

        /// <summary>The engine and its version, for the header.</summary>
        public virtual string Describe() => Engine;

        public virtual void Dispose() { }
    }

    /// <summary>LeadEngine at one precision: the device's precision is set per call, and each precision keeps its own packed weights.</summary>
    private sealed class LeadEngineContender(QwenModel model, ForwardOptions forward, ComputeDevice device, Precision precision)
        : Contender("leadengine", precision.ToString().ToLowerInvariant())
    {
        private int[][] _sequences = [];
        private ForwardResult? _result;

        public override void Prepare(int[][] sequences)
        {
            _sequences = sequences;
            Call();
        }

        public override void Call()
        {
            device.Precision = precision;
            _result = model.Forward(_sequences, forward);
        }

        public override (float[] Answers, float[]? Scores) Outputs() =>
            (_result!.LastLogits.SelectMany(l => l).ToArray(),
             Enumerable.Range(0, _sequences.Length).SelectMany(b => new[] { _result.Heads!.PointwiseLogits[b], _result.Heads.PairwiseScores[b] }).ToArray());
    }

    private sealed class OrtContender : Contender
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private NamedOnnxValue[] _inputs = [];
        private float[] _answers = [], _scores = [];

        public OrtContender(string path, int threads) : base("onnxruntime", "f32")
        {
            _options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
            _session = new InferenceSession(path, _options);
        }

        public override string Describe() => $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU";

        public override void Prepare(int[][] sequences)
        {
            int batch = sequences.Length, seq = sequences[0].Length;
            var ids = new DenseTensor<long>(sequences.SelectMany(s => s.Select(t => (long)t)).ToArray(), [batch, seq]);
            var lengths = new DenseTensor<long>(Enumerable.Repeat((long)seq, batch).ToArray(), [batch]);
            _inputs = [NamedOnnxValue.CreateFromTensor("input_ids", ids), NamedOnnxValue.CreateFromTensor("lengths", lengths)];
            Call();
        }

        public override void Call()
        {
            using var results = _session.Run(_inputs);
            _answers = results.First(r => r.Name == "answer_logits").AsEnumerable<float>().ToArray();
            _scores = results.First(r => r.Name == "scores").AsEnumerable<float>().ToArray();
        }

        public override (float[] Answers, float[]? Scores) Outputs() => (_answers, _scores);

        public override void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
        }
    }

    /// <summary>llama.cpp on a GGUF export of the same merged weights; q8_0 is reported as precision int8.</summary>
    private sealed class LlamaCppContender : Contender
    {
        private readonly LlamaCppPeer _peer;
        private readonly int[] _answers;
        private int[][] _sequences = [];
        private (int Batch, int Length) _shape;

        public LlamaCppContender(string libraries, string path, string type, int[] answers, int threads)
            : base("llama.cpp", PrecisionOf(type))
        {
            // The f32 row keeps an f32 key/value cache, so that it is an f32 engine end to end.
            _peer = new LlamaCppPeer(libraries, path, threads, f32Cache: type == "f32");
            _answers = answers;
        }

        /// <summary>The precision a llama.cpp weight type is reported as: q8_0 is int8.</summary>
        public static string PrecisionOf(string type) => type == "q8_0" ? "int8" : type;

        public override string Describe() => "llama.cpp (node-llama-cpp's prebuilt CPU build)";

        public override void Prepare(int[][] sequences)
        {
            var shape = (sequences.Length, sequences.Max(s => s.Length));
            if (shape != _shape) _peer.Prepare(shape.Item1, shape.Item2);
            _shape = shape;
            _sequences = sequences;
            Call();
        }

        public override void Call() => _peer.Decode(_sequences);

        public override (float[] Answers, float[]? Scores) Outputs() =>
            (Enumerable.Range(0, _sequences.Length).SelectMany(b => _peer.LastLogits(b, _answers)).ToArray(), null);

        public override void Dispose() => _peer.Dispose();
    }

    /// <summary>Writes a peer's export, saying how long it took (or, with <paramref name="reuse"/>, keeps one already written).</summary>
    private static void Exported(string path, Action write, bool reuse)
    {
        if (reuse && File.Exists(path)) return;
        var clock = Stopwatch.StartNew();
        write();
        Console.WriteLine($"exported {path} in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private const string PeakLine = "peak resident MB: ";

    /// <summary>The token ids every engine scores at a shape: the same for each seed, so the memory runs see the race's batches.</summary>
    private static int[][] RandomIds(QwenConfig config, int seq, int batch)
    {
        var rng = new Random(seq * 31 + batch);
        return Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, seq).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToArray();
    }

    /// <summary>
    /// The --only mode: one engine makes one call per shape, then the process's peak resident set (VmHWM) is printed.
    /// In a process of its own, with the peers' exports already written (the race writes them) and LeadEngine's model
    /// loaded only for LeadEngine, that peak is the engine's own: weights as it holds them, packed copies, buffers.
    /// </summary>
    private static int PeakMemory(List<Contender> contenders, string only, QwenConfig config, int[] seqs, int[] batches, double maxGflop)
    {
        var contender = contenders.SingleOrDefault() ?? throw new ArgumentException($"e2e: --only {only} names no engine of this run");
        foreach (int seq in seqs)
            foreach (int batch in batches.Where(b => ForwardGflop(config, b, seq) <= maxGflop))
            {
                contender.Prepare(RandomIds(config, seq, batch));
            }
        var status = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        double kb = double.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Console.WriteLine(PeakLine + Math.Round(kb / 1024).ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>
    /// Each raced engine's peak resident memory at each shape, from a child process per engine and shape (<see cref="PeakMemory"/>),
    /// after the race so that the children disturb no timing; printed as a table and added to the rows as <c>peak_rss_mb</c>.
    /// </summary>
    private static void ChildPeakMemory(List<Dictionary<string, object>> rows, string modelName, int threads, double maxGflop)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("e2e: no process path to start children with");
        // Under `dotnet bench.dll` the process is the host: the child needs the assembly as its first argument.
        string prefix = Path.GetFileNameWithoutExtension(self) == "dotnet" ? $"\"{typeof(EndToEndBenchmark).Assembly.Location}\" " : "";
        Console.WriteLine();
        Console.WriteLine("| seq | batch | engine | precision | peak resident MB (a process of its own, one call) |");
        Console.WriteLine("|----:|------:|--------|-----------|------:|");
        foreach (var row in rows)
        {
            string arguments = prefix + string.Create(CultureInfo.InvariantCulture,
                $"e2e --model {modelName} --seq {row["seq"]} --batch {row["batch"]} --threads {threads} --max-gflop {maxGflop} --only {row["engine"]}:{row["precision"]}");
            using var child = Process.Start(new ProcessStartInfo(self, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var stderr = child.StandardError.ReadToEndAsync();
            string output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(PeakLine, StringComparison.Ordinal));
            if (child.ExitCode != 0 || line is null)
                throw new InvalidOperationException($"e2e: the memory run of {row["engine"]} {row["precision"]} failed ({child.ExitCode}): {stderr.Result}{output}");
            double mb = double.Parse(line[PeakLine.Length..], CultureInfo.InvariantCulture);
            row["peak_rss_mb"] = mb;
            Console.WriteLine($"| {row["seq"]} | {row["batch"]} | {row["engine"]} | {row["precision"]} | {mb:F0} |");
        }
    }

    /// <summary>The largest <see cref="RelDiff"/> between two engines' outputs (the heads where both have them).</summary>
    private static double MaxRelDiff((float[] Answers, float[]? Scores) reference, (float[] Answers, float[]? Scores) other)
    {
        double diff = 0;
        for (int i = 0; i < reference.Answers.Length; i++) diff = Math.Max(diff, RelDiff(reference.Answers[i], other.Answers[i]));
        if (reference.Scores is { } a && other.Scores is { } b)
            for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, RelDiff(a[i], b[i]));
        return diff;
    }

    /// <summary>Forward FLOPs of a batch in GFLOP: the layers' projections and the causal attention products.</summary>
    private static double ForwardGflop(QwenConfig c, int batch, int seq)
    {
        double projections = (double)c.HiddenSize * (2 * c.Heads + 2 * c.KvHeads) * c.HeadDim + 3.0 * c.HiddenSize * c.IntermediateSize;
        return c.Layers * (2 * projections * batch * seq + 2.0 * batch * c.Heads * seq * seq * c.HeadDim) / 1e9;
    }

    /// <summary>
    /// Times the engines in alternating rounds (at least three, about <paramref name="seconds"/> per engine in all): in
    /// each round every engine makes one untimed call, then timed calls for at least a quarter second. Returns the
    /// median over rounds of each engine's ms per call, and of the rounds' ratios to the first engine (its ms / the
    /// first's: LeadEngine's speed-up over it). Shared VMs drift by ±20% over seconds, and alternating puts all engines
    /// under the same drift; the untimed call keeps out another engine's idle threads, which the runtimes let spin for a
    /// few ms after a call.
    /// </summary>
    private static (double[] Ms, double[] Speedups) TimeInterleaved(Action[] engines, double seconds)
    {
        var ms = engines.Select(_ => new List<double>()).ToArray();
        var ratios = engines.Select(_ => new List<double>()).ToArray();
        var total = Stopwatch.StartNew();
        while (ratios[0].Count < 3 || total.Elapsed.TotalSeconds < engines.Length * seconds)
        {
            for (int i = 0; i < engines.Length; i++) ms[i].Add(Round(engines[i]));
            for (int i = 0; i < engines.Length; i++) ratios[i].Add(ms[i][^1] / ms[0][^1]);
        }
        return (ms.Select(Median).ToArray(), ratios.Select(Median).ToArray());

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

    /// <summary>A comma list of names, each one of <paramref name="allowed"/>.</summary>
    private static string[] Names(string text, string what, params string[] allowed)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
            if (!allowed.Contains(name)) throw new ArgumentException($"e2e: unknown {what} '{name}' (expected {string.Join(", ", allowed)})");
        return names;
    }
}
