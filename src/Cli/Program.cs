using System.Diagnostics;
using System.Text.Json;
using LeadEngine.Cli;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

var parse = LeadEngine.Cli.CommandLine.Build().Parse(args);
// Usage errors (unknown command or option, a missing or mistyped value) exit 2 with the parser's words and
// where the help is; --help itself is the parser's generated help, exit 0.
string command = parse.CommandResult.Command.Name;
string helpHint = parse.CommandResult.Command is System.CommandLine.RootCommand ? "leadengine --help" : $"leadengine {command} --help";
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"leadengine: {error.Message}");
    Console.Error.WriteLine($"usage: {helpHint}");
    return 2;
}
try
{
    return parse.Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageException e)
{
    Console.Error.WriteLine($"leadengine: {e.Message}");
    Console.Error.WriteLine($"usage: {helpHint}");
    return 2;
}
catch (Exception e) when (e is LeadEngine.LeadScoring.LeadDataException or LeadEngine.Feedback.FeedbackStoreException or SafeTensorsException or ModelConfigException or ArgumentException or FileNotFoundException
    or DirectoryNotFoundException or InvalidDataException or InvalidOperationException or JsonException)
{
    Console.Error.WriteLine($"leadengine: error: {e.Message}");
    return 1;
}

namespace LeadEngine.Cli
{
    /// <summary>The CLI commands.</summary>
    internal static class Commands
    {
        public static int Forward(CliArgs a)
        {
            string modelDir = a.Required("model");
            var idTexts = a.All("ids");
            var texts = a.All("text");
            bool json = a.Flag("json");
            var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
            if (idTexts.Count + texts.Count == 0) throw new UsageException("forward needs at least one --ids or --text");
            var sequences = idTexts.Select(ParseIds).ToList();
            if (texts.Count > 0)
            {
                var tokenizer = QwenTokenizer.ForModel(modelDir);
                sequences.AddRange(texts.Select(t => tokenizer.Encode(t).ToArray()));
            }
            using var device = ComputeDevice.Open(kind);
            using var model = QwenModel.Load(modelDir, device);
            var result = model.Forward(sequences);
            if (json)
            {
                using var writer = new Utf8JsonWriter(Console.OpenStandardOutput());
                writer.WriteStartObject();
                WriteRows(writer, "last_hidden", result.LastHidden);
                WriteRows(writer, "last_logits", result.LastLogits);
                writer.WriteEndObject();
                writer.Flush();
                Console.WriteLine();
            }
            else
            {
                for (int b = 0; b < sequences.Count; b++)
                {
                    var top = result.LastLogits[b].Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(5);
                    Console.WriteLine($"sequence {b} ({sequences[b].Length} tokens): top logits " +
                        string.Join(", ", top.Select(p => $"{p.i}:{p.v:F4}")));
                }
            }
            return 0;
        }

        private static int[] ParseIds(string text)
        {
            var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var ids = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], out ids[i])) throw new UsageException($"--ids: '{parts[i]}' is not an integer token id");
            if (ids.Length == 0) throw new UsageException("--ids is empty");
            return ids;
        }

        private static void WriteRows(Utf8JsonWriter writer, string name, float[][] rows)
        {
            writer.WriteStartArray(name);
            foreach (var row in rows)
            {
                writer.WriteStartArray();
                foreach (float v in row) writer.WriteNumberValue(v);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }

        public static int Tokenize(CliArgs a)
        {
            string modelDir = a.Required("model");
            string text = a.Required("text");
            bool json = a.Flag("json");
            var ids = QwenTokenizer.ForModel(modelDir).Encode(text);
            Console.WriteLine(json ? JsonSerializer.Serialize(ids) : string.Join(' ', ids));
            return 0;
        }

        public static int Inspect(CliArgs a)
        {
            string modelDir = a.Required("model");
            var c = QwenConfig.Load(modelDir);
            using var store = SafeTensorStore.Open(modelDir);
            var (dtype, parameters) = QwenModel.CheckTensors(store, c);
            var tensors = store.Tensors.ToList();
            Console.WriteLine($"model            {Path.GetFullPath(modelDir)}");
            Console.WriteLine($"architecture     Qwen2: hidden {c.HiddenSize}, layers {c.Layers}, heads {c.Heads}, kv heads {c.KvHeads} ({(c.Heads == c.KvHeads ? "MHA" : "GQA")}), head dim {c.HeadDim}");
            Console.WriteLine($"                 intermediate {c.IntermediateSize}, vocab {c.VocabSize}, rope theta {c.RopeTheta}, rms eps {c.RmsNormEps}, tied embeddings {c.TieWordEmbeddings.ToString().ToLowerInvariant()}, torch_dtype {c.TorchDtype ?? "-"}");
            Console.WriteLine($"files            {store.Files.Count} ({string.Join(", ", store.Files.Select(f => Path.GetFileName(f.Path)))})");
            Console.WriteLine($"tensors          {tensors.Count} ({string.Join(", ", tensors.GroupBy(t => t.DType).Select(g => $"{g.Count()} {g.Key.Name()}"))})");
            Console.WriteLine($"parameters       {parameters:N0}");
            Console.WriteLine($"device weights   {Bytes(parameters * dtype.Size())} as {dtype.Name()}{(tensors.Select(t => t.DType).Distinct().Count() > 1 ? " (mixed dtypes widened to F32)" : " (read as stored)")}");
            long perToken = 4L * (4L * c.HiddenSize + 2L * c.Heads * c.HeadDim + 2L * c.KvHeads * c.HeadDim + 3L * c.IntermediateSize);
            Console.WriteLine($"activations      {Bytes(perToken)} per token in flight (fp32), e.g. {Bytes(perToken * 8 * 2000)} for 8 x 2,000 tokens");
            return 0;
        }

        private static string Bytes(long n) => n switch
        {
            >= 1L << 30 => $"{n / (double)(1L << 30):F2} GiB",
            >= 1L << 20 => $"{n / (double)(1L << 20):F2} MiB",
            >= 1L << 10 => $"{n / 1024.0:F1} KiB",
            _ => $"{n} B",
        };

        public static int GenerateModel(CliArgs a)
        {
            string outDir = a.Required("out");
            var config = new QwenConfig
            {
                HiddenSize = a.Int("hidden", 64), Layers = a.Int("layers", 2), Heads = a.Int("heads", 4), KvHeads = a.Int("kv-heads", 2),
                IntermediateSize = a.Int("intermediate", 176), VocabSize = a.Int("vocab", 512), TieWordEmbeddings = a.Flag("tied"),
                RopeTheta = 1e6,
            };
            var dtype = a.Optional("dtype", "bf16") switch
            {
                "bf16" => TensorDType.BF16,
                "f16" => TensorDType.F16,
                "f32" => TensorDType.F32,
                var other => throw new UsageException($"--dtype must be bf16, f16 or f32, got '{other}'"),
            };
            int seed = a.Int("seed", 1);
            SyntheticModel.Write(outDir, config, dtype, seed);
            Console.WriteLine($"wrote {outDir}");
            return 0;
        }

        public static int SelfCheck(CliArgs a)
        {
            var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
            string modelDir = RepositoryPaths.DefaultModel();
            string goldenPath = Path.Combine(modelDir, "golden.json");
            var sequences = LeadEngine.Training.GoldenBatchFile.Read(goldenPath).Batch.Sequences;
            using var golden = JsonDocument.Parse(File.ReadAllBytes(goldenPath));
            var root = golden.RootElement;

            var clock = Stopwatch.StartNew();
            using var device = ComputeDevice.Open(kind);
            using var model = QwenModel.Load(modelDir, device);
            double loadMs = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            var result = model.Forward(sequences);
            double firstMs = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            const int Repeats = 5;
            for (int i = 0; i < Repeats; i++) model.Forward(sequences);
            double warmMs = clock.Elapsed.TotalMilliseconds / Repeats;

            var expected = root.GetProperty("base").GetProperty("last_logits").EnumerateArray()
                .Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
            double worst = 0;
            for (int b = 0; b < expected.Length; b++)
            {
                double scale = expected[b].Max(Math.Abs);
                for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(expected[b][j] - result.LastLogits[b][j]) / scale);
            }
            Console.WriteLine($"LeadEngine self-check: built-in model {Path.GetFileName(modelDir)} (Qwen2 architecture, {model.ParameterCount:N0} parameters, {model.WeightDType.Name()})");
            Console.WriteLine($"device           {device.Kind} ({device.Accelerator.Name})");
            Console.WriteLine($"batch            {sequences.Length} sequences, lengths {string.Join("/", sequences.Select(s => s.Length))}, padded to {result.SeqLen}");
            Console.WriteLine($"load             {loadMs:F1} ms");
            Console.WriteLine($"first forward    {firstMs:F1} ms (includes compiling {device.CompileMilliseconds:F0} ms of kernels)");
            Console.WriteLine($"warm forward     {warmMs:F1} ms ({sequences.Sum(s => s.Length) / (warmMs / 1000):F0} tokens/s)");
            Console.WriteLine($"vs golden.json   max relative logit error {worst:E2} ({(worst <= 1e-4 ? "PASS" : "FAIL")}, bar 1e-4)");
            for (int b = 0; b < sequences.Length; b++)
            {
                int top = Array.IndexOf(result.LastLogits[b], result.LastLogits[b].Max());
                Console.WriteLine($"  sequence {b}: next token {top} (logit {result.LastLogits[b][top]:F4})");
            }
            return worst <= 1e-4 ? 0 : 1;
        }
    }
}
