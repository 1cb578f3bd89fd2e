using System.CommandLine;

namespace LeadEngine.Cli;

/// <summary>
/// The <c>leadengine</c> command line on System.CommandLine: one name per command, typed options with their
/// help, usage errors reported by the parser. A command's body reads its options through <see cref="CliArgs"/>.
/// </summary>
internal static class CommandLine
{
    /// <summary>Every command.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("LeadEngine: a from-scratch Qwen runtime on ILGPU kernels, trained into a lead scorer that keeps learning.");
        Add(root, "demo", "The built-in default: a synthetic funnel, a tiny Qwen2 model with the real tokenizer, the default training on the CPU, and the eval table with baselines.",
            LeadCommands.Demo, Int("count", "synthetic leads (default 20000)"), Int("epochs", "training epochs (default 1)"), Device());
        Add(root, "selfcheck", "Forward on the bundled tiny Qwen2 model, checked against its golden outputs.", Commands.SelfCheck, Device());
        Add(root, "train", "Train a lead scorer on the time-ordered first 70% of a lead file (CSV, Parquet or JSON Lines) and choose the default model on a temporal validation slice.",
            LeadCommands.Train, [Text("data", "the lead file", required: true), Text("out", "the adapter folder to write", required: true), Model(), .. Mapping(),
                Int("epochs", "default 1"), Int("batch-size", "default 16"), Int("rank", "LoRA rank (default 8)"), Int("seed", "default 1"),
                Number("lr", "head learning rate; LoRA 20x lower (default 3e-3)"), Int("folds", "time folds for the stacked model's out-of-fold head outputs (default 3)"),
                Text("loss-weights", "w_bce,w_hpro,w_lm (default 1,0.5,0.2)"), Switch("recompute", "recompute activations in the backward pass (less memory)"),
                Switch("heads-only", "skip the stacked model: the LLM heads' probability is the score"),
                Switch("no-head-features", "heads read the final hidden state only, not the encoded columns"), SkipBadRows(), Device()]);
        Add(root, "score", "Score a lead file with an adapter; model, column mapping and funnel come from the adapter folder.",
            LeadCommands.Score, [Text("adapter", "the adapter folder", required: true), Text("data", "the lead file", required: true),
                Text("out", "scores.csv to write", required: true), Model(), .. Mapping(),
                Switch("explain", "add reasons_up / reasons_down: the top 5 columns and dialogue sentences each way, by occlusion"), SkipBadRows(), Device()]);
        Add(root, "eval", "Report on the last 30% of a lead file by time, beside Funnel+Recency and LightGBM baselines (Markdown, JSON, charts).",
            LeadCommands.Eval, [Text("adapter", "the adapter folder", required: true), Text("data", "the lead file", required: true),
                Text("report", "report folder (default ADAPTER/report)"), Model(), .. Mapping(), SkipBadRows(), Device()]);
        Add(root, "prompt", "The prompt of a lead and its token count.", LeadCommands.Prompt,
            [Text("data", "the lead file", required: true), Text("lead", "lead id (default: the first)"), Int("budget", "token budget (default 2000)"), Model(), .. Mapping()]);
        Add(root, "generate-leads", "A synthetic automotive funnel data set (see SyntheticLeads).", LeadCommands.GenerateLeads,
            Text("out", "FILE.csv", required: true), Int("count", "default 20000"), Int("seed", "default 1"));
        Add(root, "forward", "Final-norm hidden state and full logits at each sequence's last token (one right-padded batch).", Commands.Forward,
            Text("model", "model folder", required: true), Many("ids", "token ids, space separated (repeatable: one sequence each)"),
            Many("text", "text to tokenize (repeatable)"), Switch("json", "JSON output"), Device());
        Add(root, "tokenize", "Qwen token ids (the model's tokenizer files, else weights/qwen-tokenizer).", Commands.Tokenize,
            Text("model", "model folder", required: true), Text("text", "text", required: true), Switch("json", "JSON output"));
        Add(root, "inspect", "Config, tensors, dtypes, parameters and memory of a model.", Commands.Inspect, Text("model", "model folder", required: true));
        Add(root, "objective", "BCE, HPRO and LM losses of a golden-format batch and the L2 norm of the gradient of every trainable tensor.", TrainingCommands.Objective,
            Text("model", "model folder", required: true), Text("adapter", "adapter file or folder", required: true), Text("batch", "golden.json", required: true),
            Switch("recompute", "recompute activations in the backward pass"), Switch("json", "JSON output"), Device());
        Add(root, "train-batches", "Train LoRA + score heads with BCE + HPRO + LM on golden-format batch files (the objective's trainer, without lead files).",
            TrainingCommands.Train, Text("model", "model folder", required: true), Many("batch", "a batch file (repeatable)", required: true),
            Text("out", "checkpoint folder", required: true), Many("eval-batch", "an evaluation batch file (repeatable)"), Int("steps", "default 100"),
            Number("lr", "default 1e-3"), Number("lora-ratio", "head rate / LoRA rate (default 20)"), Int("rank", "default 8"), Number("alpha", "default 16"),
            Text("targets", "LoRA targets, comma separated (default q_proj,...,down_proj)"), Int("warmup", "default 10"),
            Text("schedule", "cosine, linear or constant (default cosine)"), Int("accumulate", "gradient accumulation steps (default 1)"),
            Number("clip", "global gradient norm clip (default 1.0)"), Number("weight-decay", "default 0.01"), Text("loss-weights", "default 1,0.5,0.2"),
            Int("eval-every", "default 10"), Int("save-every", "default 0: at the end only"), Text("resume", "checkpoint folder to resume from"),
            Switch("recompute", "recompute activations in the backward pass"), Int("seed", "default 1"), Device());
        Add(root, "generate-model", "A Qwen2-architecture model with seeded random weights.", Commands.GenerateModel,
            Text("out", "model folder", required: true), Int("hidden", "default 64"), Int("layers", "default 2"), Int("heads", "default 4"),
            Int("kv-heads", "default 2"), Int("intermediate", "default 176"), Int("vocab", "default 512"), Text("dtype", "bf16, f16 or f32 (default bf16)"),
            Switch("tied", "tie the embeddings and the LM head"), Int("seed", "default 1"));
        Add(root, "profile", "Per-kernel table (calls, ms, % of step, GFLOP/s, GB/s) of a scoring forward or a training step.", ProfileCommand.Run,
            Text("model", "model folder or qwen2.5-0.5b, qwen2.5-1.5b, qwen1.5-1.8b (random weights)", required: true), Switch("train", "profile a training step"),
            Int("batch", "default 8"), Int("seq", "default 256"), Int("steps", "default 3"), Int("rank", "default 8"), Device());
        Add(root, "export-onnx", "The scorer as a standard ONNX graph (adapter merged; weights in FILE.onnx.data) for ONNX Runtime.", ProfileCommand.ExportOnnx,
            Text("model", "model folder", required: true), Text("out", "FILE.onnx", required: true), Text("adapter", "adapter folder"), Int("max-seq", "default 2048"));
        Add(root, "serve", "The scoring service (HTTP/JSON): POST /v1/score, GET /v1/call-list?k=K, POST /v1/feedback, GET /v1/leads/ID, /healthz, /metrics; without --adapter the built-in default.",
            ServeCommands.Serve, Int("port", "default 8080"), Text("host", "default 127.0.0.1"), Text("adapter", "adapter folder"), Model(),
            Text("home", "versions folder (continuous learning)"), Text("db", "SQLite path or PostgreSQL connection string (default ADAPTER/feedback.db)"),
            Int("batch-size", "default 16"), Int("queue", "leads waiting at most (default 1024)"), Int("max-body-kb", "default 1024"),
            Number("cooldown-hours", "a called lead stays off the call list this long (default 20)"),
            Text("policy", "greedy, epsilon-greedy[:0.1], softmax[:0.05] or thompson (default greedy)"), Number("update-every-hours", "scheduled updates (with --home)"), Device());
        Add(root, "load-test", "Bounded loopback load test of a running service: throughput and p50/p95/p99 latency.", ServeCommands.LoadTestCommand,
            Text("url", "http://127.0.0.1:PORT", required: true), Int("clients", "default 4"), Number("seconds", "default 10"),
            Number("feedback-share", "share of requests that post feedback (default 0.25)"), Int("seed", "default 1"), Text("data", "lead file to send (default synthetic)"));
        Add(root, "simulate", "A call centre with drifting customers: random, funnel+recency, static, periodic retraining and continuous learning compared over seeds, an A/B test, and off-policy estimates checked against the simulated truth.",
            LearningCommands.Simulate, Int("days", "default 30"), Int("seeds", "default 3"), Int("seed", "first seed (default 1)"), Int("leads-per-day", "default 150"),
            Int("calls-per-day", "default 30"), Int("history-days", "default 20"), Int("retrain-every", "default 10"), Number("drift", "default 1"),
            Number("exploration", "default 0.1"), Number("uniform-share", "share of the continuous policy's lists drawn uniformly: the off-policy estimates' support (default 0: none)"),
            Model(), Switch("json", "JSON output"), Text("out", "report folder (default weights/demo/simulation)"), Device());
        Add(root, "replay", "The simulator's replay mode over a real, time-ordered lead file: the same policies call K of each day's leads and learn only their logged outcomes; off-policy estimates from the continuous policy's logs beside the replayed values.",
            LearningCommands.Replay, [Text("data", "the lead file (every lead with its outcome)", required: true), .. Mapping(),
                Int("leads-per-day", "consecutive leads per day (default 400)"), Int("calls-per-day", "default 40"),
                Number("history-share", "share of the file before day 1: the static scorer's training data (default 0.3)"),
                Int("retrain-every", "days between the periodic policy's retrainings (default 10)"), Number("exploration", "Thompson draw scale (default 1)"),
                Number("uniform-share", "share of the continuous policy's lists drawn uniformly, the logging support of the off-policy estimates (default 0.1)"),
                Int("seed", "default 1"), Switch("json", "JSON output"), Text("out", "report folder (default weights/demo/replay)"), SkipBadRows()]);
        Add(root, "drift", "Drift of the served scores (population stability index) and of their calibration, last days vs before.", LearningCommands.Drift,
            Text("db", "SQLite path or PostgreSQL connection string"), Text("adapter", "adapter folder (its feedback.db)"), Number("current-days", "default 7"),
            Number("reference-days", "default 28"), Switch("json", "JSON output"));
        Add(root, "update", "A candidate warm-started from the current version on the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy.",
            LearningCommands.Update, Text("home", "versions folder", required: true), Text("adapter", "the first version (first time)"),
            Text("db", "SQLite path or PostgreSQL connection string"), Model(), Int("epochs", "default 1"), Number("lr", "default 1e-3"),
            Number("holdout", "share of outcomes held out (default 0.2)"), Number("tolerance", "default 0.01"), Number("window-days", "default 14"), Device());
        Add(root, "versions", "Every version, which one serves, and why each was promoted or rejected.", LearningCommands.Versions, Text("home", "versions folder", required: true));
        Add(root, "rollback", "Serve the previous promoted version (or --to ID) again.", LearningCommands.Rollback,
            Text("home", "versions folder", required: true), Text("to", "version id"));
        return root;
    }

    private static void Add(RootCommand root, string name, string description, Func<CliArgs, int> run, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(parse => run(new CliArgs(parse, options)));
        root.Subcommands.Add(command);
    }

    private static Option<string> Text(string name, string description, bool required = false) =>
        new("--" + name) { Description = description, Required = required };

    private static Option<int> Int(string name, string description) => new("--" + name) { Description = description };

    private static Option<double> Number(string name, string description) => new("--" + name) { Description = description };

    private static Option<bool> Switch(string name, string description) => new("--" + name) { Description = description };

    private static Option<string[]> Many(string name, string description, bool required = false) =>
        new("--" + name) { Description = description, Required = required, AllowMultipleArgumentsPerToken = false };

    private static Option<string> Device() => Text("device", "auto, cpu (SIMD), ilgpu-cpu, cuda or opencl (default auto)");

    private static Option<string> Model() => Text("model", "model folder (default: the adapter's, else the built-in default)");

    private static Option<bool> SkipBadRows() => Switch("skip-bad-rows", "skip and count bad rows instead of stopping at the first");

    /// <summary>The column mapping and funnel options of the commands that read lead files.</summary>
    private static Option[] Mapping() =>
    [
        Text("funnel", "funnel JSON (default: the adapter's, else funnels/automotive.json)"),
        Text("columns", "column mapping JSON: {\"id\", \"created_at\", \"label\", \"stage\", \"call_seconds\", \"dialogue\", \"drop\"}"),
        Text("id-column", "the lead id column (none: use the row number)"), Text("time-column", "the creation time column (none: row order)"),
        Text("label-column", "the converted label column"), Text("stage-column", "the funnel stage column (none: follow the label)"),
        Text("call-seconds-column", "the call length column (an outcome: never a feature)"), Text("dialogue-column", "the dialogue column"),
        Text("drop", "columns to leave out, comma separated"),
    ];
}
