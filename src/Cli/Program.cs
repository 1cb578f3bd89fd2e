using System.Diagnostics;
using System.Text.Json;
using LeadEngine.Cli;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

const string Usage = """
usage: leadengine <command> [options]

commands:
  demo            the built-in default: synthetic funnel data, a tiny Qwen2 model with the real tokenizer, HPRO training
                  on CPU, and the eval table beside a model without HPRO and both baselines [--count 20000] [--epochs 1]
  selfcheck       forward on the bundled tiny Qwen2 model, checked against its golden outputs
  train           --model DIR --data FILE --out DIR [--funnel FILE] [--epochs 1] [--batch-size 16] [--lr 3e-3] [--rank 8]
                  [--loss-weights 1,0.5,0.2] [--skip-bad-rows]   LoRA + heads on the time-ordered first 70% of the leads
  score           --adapter DIR --data FILE --out scores.csv [--model DIR] [--funnel FILE] [--skip-bad-rows] [--explain]
                  --explain adds reasons_up / reasons_down: the top 5 columns and dialogue sentences each way (occlusion)
  eval            --model DIR --adapter DIR --data FILE [--report DIR] [--funnel FILE]   report on the last 30% by time, with baselines
  forward         --model DIR (--ids "1 2 3" | --text "...")... [--device auto|cpu|cuda|opencl] [--json]
                  final-norm hidden state and full logits at each sequence's last token (one right-padded batch)
  tokenize        --model DIR --text "..." [--json]   Qwen token ids (the model's tokenizer files, else weights/qwen-tokenizer)
  inspect         --model DIR                         config, tensors, dtypes, parameters and memory
  objective       --model DIR --adapter FILE|DIR --batch golden.json [--device ...] [--recompute] [--json]
                  BCE, HPRO and LM losses of a batch and the L2 norm of the gradient of every trainable tensor
  train           --model DIR --batch FILE [--batch FILE]... --out DIR [--eval-batch FILE]... [--steps 100]
                  [--lr 1e-3] [--lora-ratio 20] [--rank 8] [--alpha 16] [--targets q_proj,...,down_proj]
                  [--warmup 10] [--schedule cosine|linear|constant] [--accumulate 1] [--clip 1.0] [--weight-decay 0.01]
                  [--loss-weights 1,0.5,0.2] [--eval-every 10] [--save-every 0] [--resume DIR] [--recompute] [--seed 1]
                  train LoRA + score heads with BCE + HPRO + LM on golden-format batch files
  generate-leads  --out FILE.csv [--count 20000] [--seed 1]   a synthetic automotive funnel dataset (see SyntheticLeads)
  prompt          --data FILE [--lead ID] [--funnel FILE] [--budget 2000] [--model DIR]   the prompt of a lead and its token count
  profile         --model DIR|qwen2.5-0.5b|qwen2.5-1.5b|qwen1.5-1.8b [--train] [--batch 8 --seq 256 --steps 3 --rank 8]
                  [--device D]   per-kernel table (calls, ms, % of step, GFLOP/s, GB/s) of a scoring forward or a training step
  export-onnx     --model DIR [--adapter DIR] --out FILE.onnx [--max-seq 2048]
                  the scorer as a standard ONNX graph (adapter merged; weights in FILE.onnx.data) for ONNX Runtime
  serve           [--port 8080] [--host 127.0.0.1] [--adapter DIR [--model DIR] | --home DIR] [--db PATH|CONNSTRING] [--batch-size 16]
                  [--queue 1024] [--max-body-kb 1024] [--cooldown-hours 20] [--policy greedy|epsilon-greedy[:0.1]|softmax[:0.05]]
                  [--update-every-hours H (with --home)] [--device D]   the scoring service (HTTP/JSON):
                  POST /v1/score, GET /v1/call-list?k=K, POST /v1/feedback, GET /v1/leads/ID, /healthz, /metrics;
                  without --adapter the built-in default; --db defaults to ADAPTER/feedback.db (SQLite), or a PostgreSQL connection string
  load-test       --url http://127.0.0.1:PORT [--clients 4] [--seconds 10] [--feedback-share 0.25] [--data FILE]
                  bounded loopback load test of a running service: throughput and p50/p95/p99 latency
  simulate        [--days 30] [--seeds 3] [--leads-per-day 150] [--calls-per-day 30] [--drift 1] [--retrain-every 10]
                  [--history-days 20] [--exploration 0.1] [--json] [--out DIR]   a call centre with drifting customers: random, funnel+recency,
                  static, periodic retraining and continuous learning (Thompson sampling) compared over seeds, an A/B test,
                  and off-policy estimates checked against the simulated truth
  drift           [--db PATH|CONNSTRING | --adapter DIR] [--current-days 7] [--reference-days 28] [--json]
                  drift of the served scores (population stability index) and of their calibration, last days vs before
  update          --home DIR [--adapter DIR (first time)] [--db PATH|CONNSTRING] [--model DIR] [--epochs 1] [--lr 1e-3]
                  [--holdout 0.2] [--tolerance 0.01] [--window-days 14]   a candidate warm-started from the current version on
                  the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy
  versions        --home DIR                          every version, which one serves, and why each was promoted or rejected
  rollback        --home DIR [--to ID]                serve the previous promoted version (or ID) again
  generate-model  --out DIR [--hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 176 --vocab 512]
                  [--dtype bf16|f16|f32] [--tied] [--seed 1]   a Qwen2-architecture model with seeded random weights
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Write(Usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    var options = new CliArgs(args.Skip(1), "json", "tied", "recompute", "skip-bad-rows", "train", "no-head-features", "heads-only", "explain");
    return args[0] switch
    {
        "demo" => LeadCommands.Demo(options),
        "selfcheck" => Commands.SelfCheck(options),
        "score" => LeadCommands.Score(options),
        "eval" => LeadCommands.Eval(options),
        "forward" => Commands.Forward(options),
        "tokenize" => Commands.Tokenize(options),
        "inspect" => Commands.Inspect(options),
        "objective" => TrainingCommands.Objective(options),
        "train" => options.Has("data") ? LeadCommands.Train(options) : TrainingCommands.Train(options),
        "generate-model" => Commands.GenerateModel(options),
        "generate-leads" => LeadCommands.GenerateLeads(options),
        "prompt" => LeadCommands.Prompt(options),
        "profile" => ProfileCommand.Run(options),
        "export-onnx" => ProfileCommand.ExportOnnx(options),
        "serve" => ServeCommands.Serve(options),
        "load-test" => ServeCommands.LoadTestCommand(options),
        "simulate" => LearningCommands.Simulate(options),
        "drift" => LearningCommands.Drift(options),
        "update" => LearningCommands.Update(options),
        "versions" => LearningCommands.Versions(options),
        "rollback" => LearningCommands.Rollback(options),
        _ => throw new UsageException($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"leadengine: {e.Message}");
    Console.Error.Write(Usage);
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
            a.RejectUnknown();
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
            a.RejectUnknown();
            var ids = QwenTokenizer.ForModel(modelDir).Encode(text);
            Console.WriteLine(json ? JsonSerializer.Serialize(ids) : string.Join(' ', ids));
            return 0;
        }

        public static int Inspect(CliArgs a)
        {
            string modelDir = a.Required("model");
            a.RejectUnknown();
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
            a.RejectUnknown();
            SyntheticModel.Write(outDir, config, dtype, seed);
            Console.WriteLine($"wrote {outDir}");
            return 0;
        }

        public static int SelfCheck(CliArgs a)
        {
            var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
            a.RejectUnknown();
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
