using System.Diagnostics;
using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Tests;

/// <summary>The <c>leadengine</c> command as a user runs it (a separate process).</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void ForwardJsonMatchesGolden()
    {
        string name = "tiny-qwen15-mha-untied";
        var golden = Fixtures.Golden(name);
        var sequences = Fixtures.Sequences(golden);
        var args = new List<string> { "forward", "--model", Fixtures.ModelDir(name), "--device", "cpu", "--json" };
        foreach (var s in sequences) args.AddRange(["--ids", string.Join(' ', s)]);
        var (code, stdout, stderr) = Run([.. args]);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var hidden = Fixtures.Rows(doc.RootElement.GetProperty("last_hidden"));
        var logits = Fixtures.Rows(doc.RootElement.GetProperty("last_logits"));
        var expectedHidden = Fixtures.Rows(golden.GetProperty("base").GetProperty("last_hidden"));
        var expectedLogits = Fixtures.Rows(golden.GetProperty("base").GetProperty("last_logits"));
        for (int b = 0; b < sequences.Length; b++)
        {
            Close.Check(expectedHidden[b], hidden[b], 1e-4, $"cli hidden[{b}]");
            Close.Check(expectedLogits[b], logits[b], 1e-4, $"cli logits[{b}]");
        }
    }

    [Fact]
    public void ForwardAcceptsAnyGeneratedQwen2Config()
    {
        string dir = Path.Combine(_dir, "gen");
        var (code, _, err) = Run("generate-model", "--out", dir, "--hidden", "48", "--layers", "2", "--heads", "8", "--kv-heads", "1",
            "--intermediate", "72", "--vocab", "97", "--dtype", "bf16", "--seed", "3");
        Assert.True(code == 0, err);
        var (fcode, stdout, ferr) = Run("forward", "--model", dir, "--ids", "5 6 7 8 9", "--ids", "96 0", "--json");
        Assert.True(fcode == 0, ferr);
        using var doc = JsonDocument.Parse(stdout);
        var logits = Fixtures.Rows(doc.RootElement.GetProperty("last_logits"));
        var (_, expected) = ReferenceModel.Forward(dir, [[5, 6, 7, 8, 9], [96, 0]]);
        Close.Check(expected[0], logits[0], 1e-4, "generated logits[0]");
        Close.Check(expected[1], logits[1], 1e-4, "generated logits[1]");
    }

    [Fact]
    public void TokenizeUsesDefaultQwenTokenizer()
    {
        var (code, stdout, err) = Run("tokenize", "--model", Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "--text", "Hello world,");
        Assert.True(code == 0, err);
        Assert.Equal("9707 1879 11", stdout.Trim());
    }

    [Fact]
    public void InspectReportsShapeAndMemory()
    {
        var (code, stdout, err) = Run("inspect", "--model", Fixtures.ModelDir("tiny-qwen2-gqa-tied"));
        Assert.True(code == 0, err);
        Assert.Contains("kv heads 2 (GQA)", stdout);
        Assert.Contains("125,504", stdout);
        Assert.Contains("BF16", stdout);
    }

    [Fact]
    public void ServeRefusesAModelWithoutAnAdapter()
    {
        var (code, _, err) = Run("serve", "--model", Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--model needs --adapter", err);
        var (help, stdout, _) = Run("serve", "--help");
        Assert.Equal(0, help);
        Assert.Contains("POST /v1/score, GET /v1/call-list?k=K, POST /v1/feedback", stdout);
        // A store named by --db that is not there is never created silently: acknowledged feedback lived in it.
        string missing = Path.Combine(Path.GetTempPath(), $"le-missing-{Guid.NewGuid():N}", "feedback.db");
        var (noStore, _, noStoreErr) = Run("serve", "--db", missing, "--port", "0");
        Assert.Equal(1, noStore);
        Assert.Contains("pass --create-db", noStoreErr);
        Assert.False(File.Exists(missing));
        // update learns from a store serve made: a missing one is an error, and the home is not started.
        string home = Path.Combine(Path.GetTempPath(), $"le-home-{Guid.NewGuid():N}");
        var (noUpdate, _, noUpdateErr) = Run("update", "--home", home, "--adapter", "whatever", "--db", missing);
        Assert.Equal(1, noUpdate);
        Assert.Contains("no feedback store there", noUpdateErr);
        Assert.False(Directory.Exists(home));
        // Beyond loopback only with keys: lead data is personal data.
        var (open, _, openErr) = Run("serve", "--bind", "0.0.0.0", "--port", "0");
        Assert.Equal(2, open);
        Assert.Contains("--require-keys", openErr);
    }

    /// <summary><c>keys add|list|revoke</c>: the key is printed once, on the last line; the store lists names and scopes, never keys.</summary>
    [Fact]
    public void KeysAddListRevoke()
    {
        string dir = Directory.CreateTempSubdirectory("le-keys-").FullName;
        try
        {
            string db = Path.Combine(dir, "feedback.db");
            var (missing, _, missingErr) = Run("keys", "add", "--db", db, "--name", "crm", "--scopes", "score");
            Assert.Equal(1, missing);
            Assert.Contains("--create-db", missingErr);
            var (added, addOut, addErr) = Run("keys", "add", "--db", db, "--name", "crm", "--scopes", "score,feedback", "--create-db");
            Assert.True(added == 0, addErr);
            string key = addOut.Trim().Split('\n')[^1].Trim();
            Assert.StartsWith("le_", key);
            var (_, badScope, badScopeErr) = Run("keys", "add", "--db", db, "--name", "x", "--scopes", "everything");
            Assert.Contains("unknown scope 'everything'", badScopeErr);
            var (listed, listOut, _) = Run("keys", "list", "--db", db);
            Assert.Equal(0, listed);
            Assert.Contains("crm", listOut);
            Assert.Contains("score,feedback", listOut);
            Assert.DoesNotContain(key, listOut);
            Assert.DoesNotContain(key, File.ReadAllText(db, System.Text.Encoding.Latin1));
            Assert.Equal(0, Run("keys", "revoke", "--db", db, "--name", "crm").Code);
            Assert.Contains("revoked", Run("keys", "list", "--db", db).Out);
            var (again, _, againErr) = Run("keys", "revoke", "--db", db, "--name", "crm");
            Assert.Equal(1, again);
            Assert.Contains("no valid key named 'crm'", againErr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>The generated help lists every command once; usage errors exit 2 with the parser's words and where the help is.</summary>
    [Fact]
    public void HelpAndUsageErrors()
    {
        var (code, stdout, err) = Run("--help");
        Assert.True(code == 0, err);
        string[] commands = ["demo", "selfcheck", "train", "score", "eval", "prompt", "generate-leads", "forward", "tokenize", "inspect", "objective",
            "train-batches", "generate-model", "profile", "export-onnx", "export-gguf", "serve", "load-test", "simulate", "drift", "update", "versions", "rollback", "keys", "timing"];
        var listed = stdout.Split('\n').Select(l => l.Trim().Split(' ')[0]).ToList();
        foreach (string c in commands) Assert.Equal(1, listed.Count(l => l == c));

        (code, stdout, _) = Run("score", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--explain", stdout);
        Assert.Contains("--label-column", stdout);

        foreach (var (args, message) in new (string[], string)[]
        {
            (["score", "--adapter", "a", "--data", "d"], "--out"),                       // missing required option
            (["train", "--data", "d", "--out", "o", "--epochs", "two"], "two"),          // not an integer
            (["eval", "--adapter", "a", "--data", "d", "--colour", "red"], "--colour"),    // unknown option
            (["fly"], "fly"),                                                             // unknown command
            ([], "command"),                                                              // no command
        })
        {
            (code, stdout, err) = Run(args);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}: {err}");
            Assert.Contains(message, err);
            Assert.Contains("--help", err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Fact]
    public void ErrorsAreOneClearLine()
    {
        var (code, _, err) = Run("forward", "--model", Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "--ids", "1 x");
        Assert.Equal(2, code);
        Assert.Contains("'x' is not an integer token id", err);

        string broken = Path.Combine(_dir, "broken");
        Directory.CreateDirectory(broken);
        File.Copy(Path.Combine(Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "config.json"), Path.Combine(broken, "config.json"));
        File.WriteAllBytes(Path.Combine(broken, "model.safetensors"), File.ReadAllBytes(Path.Combine(Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "model.safetensors"))[..5000]);
        (code, _, err) = Run("forward", "--model", broken, "--ids", "1");
        Assert.Equal(1, code);
        Assert.Contains("model.safetensors", err);
        Assert.Contains("truncated", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void ProfilePrintsAPerKernelTableOfATrainingStep()
    {
        var (code, stdout, stderr) = Run("profile", "--model", Fixtures.ModelDir("tiny-qwen2-gqa-tied"), "--train", "--batch", "2", "--seq", "8",
            "--steps", "1", "--device", "cpu");
        Assert.True(code == 0, stderr);
        foreach (var kernel in new[] { "matmul.forward", "matmul.backward_input", "attention.forward", "attention.backward", "rmsnorm.backward", "host.losses" })
            Assert.Contains($"| {kernel}", stdout);
        Assert.Contains("tokens/s", stdout);
    }

    [Fact]
    public void ExportOnnxWritesAGraphOnnxRuntimeLoads()
    {
        string modelDir = Path.Combine(_dir, "model"), path = Path.Combine(_dir, "model.onnx");
        var (code, _, stderr) = Run("generate-model", "--out", modelDir, "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1",
            "--intermediate", "48", "--vocab", "151936", "--tied");
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = Run("export-onnx", "--model", modelDir, "--out", path, "--max-seq", "32");
        Assert.True(code == 0, stderr);
        Assert.Contains("answer_logits", stdout);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        Assert.Equal(["input_ids", "lengths"], session.InputMetadata.Keys.ToArray());
        Assert.Equal(["answer_logits"], session.OutputMetadata.Keys.ToArray());

        // A model whose vocabulary lacks the tokenizer's answer tokens is refused with the token named.
        (code, _, stderr) = Run("export-onnx", "--model", Fixtures.ModelDir("tiny-qwen15-mha-untied"), "--out", Path.Combine(_dir, "bad.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("outside the vocabulary", stderr);
    }
}

/// <summary>The training commands as a user runs them.</summary>
public sealed class TrainingCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-tcli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("tiny-qwen2-gqa-tied")]
    [InlineData("tiny-qwen15-mha-untied")]
    public void ObjectiveJsonMatchesGoldenLossesAndGradientNorms(string name)
    {
        string dir = Fixtures.ModelDir(name);
        var (code, stdout, err) = CliRunner.Run("objective", "--model", dir, "--adapter", Path.Combine(dir, "adapter_and_heads.safetensors"),
            "--batch", Path.Combine(dir, "golden.json"), "--device", "cpu", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var golden = Fixtures.Golden(name).GetProperty("objective");
        foreach (var term in new[] { "bce", "hpro", "lm", "total" })
        {
            double want = golden.GetProperty("loss").GetProperty(term).GetDouble();
            Assert.Equal(want, doc.RootElement.GetProperty("loss").GetProperty(term).GetDouble(), Math.Abs(want) * 1e-4);
        }
        var norms = doc.RootElement.GetProperty("grad_norm");
        foreach (var grad in golden.GetProperty("grad").EnumerateObject())
        {
            double want = Math.Sqrt(Fixtures.Floats(grad.Value.GetProperty("values")).Sum(v => (double)v * v));
            double got = norms.GetProperty(grad.Name).GetDouble();
            Assert.True(Math.Abs(got - want) <= 1e-4 * Math.Max(want, 1e-3), $"|d {grad.Name}|: {got} vs golden {want}");
        }
    }

    [Fact]
    public void TrainWritesACheckpointThatResumes()
    {
        string dir = Fixtures.ModelDir("tiny-qwen15-mha-untied"), batch = Path.Combine(dir, "golden.json"), outDir = Path.Combine(_dir, "run");
        var (code, stdout, err) = CliRunner.Run("train-batches", "--model", dir, "--batch", batch, "--out", outDir, "--steps", "2", "--rank", "2", "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("step 2/2", stdout);
        (code, stdout, err) = CliRunner.Run("train-batches", "--model", dir, "--batch", batch, "--out", outDir, "--steps", "3", "--resume", outDir, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("step 3/3", stdout);
        Assert.DoesNotContain("step 1/3", stdout);
        (code, _, err) = CliRunner.Run("objective", "--model", dir, "--adapter", outDir, "--batch", batch, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("LoRA rank 2", err);
    }
}

/// <summary>Runs the leadengine binary.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "leadengine.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Fixtures.RepoRoot,
        };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}

/// <summary>train → score → eval on real lead data with its own column names, as a new user runs them.</summary>
public sealed class LeadCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-lcli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void BankLeadsTrainScoreAndEvalWithAColumnMapping()
    {
        string data = Fixtures.BankMarketingHead(_dir, 1200), adapter = Path.Combine(_dir, "adapter"), scores = Path.Combine(_dir, "scores.csv");
        // No --model: the built-in default. The mapping names the label and the call length; nothing else is said.
        var (code, stdout, stderr) = CliRunner.Run("train", "--data", data, "--label-column", "y", "--call-seconds-column", "duration",
            "--folds", "2", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--out", stderr);
        (code, stdout, stderr) = CliRunner.Run("train", "--data", data, "--label-column", "y", "--call-seconds-column", "duration", "--drop", "month",
            "--out", adapter, "--folds", "2", "--device", "cpu");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("the row order is taken as the time order", stdout);
        Assert.Contains("validation on the latest", stdout);
        Assert.Contains("default model: ", stdout);
        Assert.DoesNotContain('\r', stdout);
        var record = LeadEngine.LeadScoring.TrainingRecord.Load(adapter)!;
        Assert.Equal(3, record.Validation.Length);
        Assert.Equal(record.Scorer == LeadEngine.LeadScoring.TrainingRecord.BlendScorer,
            Directory.Exists(Path.Combine(adapter, LeadEngine.LeadScoring.LeadScorer.StackerDirectory)));
        Assert.Equal(record.Scorer != LeadEngine.LeadScoring.TrainingRecord.HeadsScorer,
            Directory.Exists(Path.Combine(adapter, LeadEngine.LeadScoring.LeadScorer.TreesDirectory)));
        var schema = LeadEngine.LeadScoring.LeadSchema.Load(adapter)!;
        Assert.Equal("y", schema.Columns!.Label);
        Assert.DoesNotContain("duration", schema.Features);
        Assert.DoesNotContain("month", schema.Features);
        Assert.True(File.Exists(Path.Combine(adapter, LeadEngine.LeadScoring.LeadFeatureEncoder.FileName)));

        // score and eval need only the adapter: model, mapping and funnel come from its folder.
        (code, stdout, stderr) = CliRunner.Run("score", "--adapter", adapter, "--data", data, "--out", scores, "--device", "cpu");
        Assert.True(code == 0, stderr + stdout);
        var lines = File.ReadAllLines(scores);
        Assert.Equal(1201, lines.Length);
        Assert.DoesNotContain('\r', stderr);
        Assert.Contains("scored 1200/1200 leads", stderr);
        Assert.StartsWith("1,", lines[1]);
        // --explain: each score with its top reasons each way, as columns of the same file.
        string few = Path.Combine(_dir, "few.csv"), explained = Path.Combine(_dir, "explained.csv");
        File.WriteAllLines(few, File.ReadLines(data).Take(21));
        (code, stdout, stderr) = CliRunner.Run("score", "--adapter", adapter, "--data", few, "--out", explained, "--explain", "--device", "cpu");
        Assert.True(code == 0, stderr + stdout);
        var rows = File.ReadAllLines(explained);
        Assert.Equal("lead_id,probability,ranking_score,score,grade,p_yes,reasons_up,reasons_down", rows[0]);
        Assert.Equal(21, rows.Length);
        Assert.Contains(rows.Skip(1), r => System.Text.RegularExpressions.Regex.IsMatch(r, @"[a-z_.]+=[^;,]* [+-]\d\.\d{3}"));
        Assert.Equal(lines[1].Split(',')[..6], rows[1].Split(',')[..6]);
        // --precision bf16 and int8: the same leads with reduced weights and activations in the projections; the probabilities move by rounding only.
        static double[] Probabilities(IEnumerable<string> csv) =>
            csv.Skip(1).Select(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        string reducedScores = Path.Combine(_dir, "scores-reduced.csv");
        foreach (var precision in new[] { "bf16", "int8" })
        {
            (code, stdout, stderr) = CliRunner.Run("score", "--adapter", adapter, "--data", data, "--out", reducedScores, "--device", "cpu", "--precision", precision);
            Assert.True(code == 0, stderr + stdout);
            var shifts = Probabilities(lines).Zip(Probabilities(File.ReadAllLines(reducedScores)), (f, b) => Math.Abs(f - b)).Order().ToArray();
            Assert.True(shifts[shifts.Length / 2] < 0.01 && shifts.Average() < 0.02,
                $"{precision} moved probabilities by {shifts.Average():F4} on average (median {shifts[shifts.Length / 2]:F4}, max {shifts[^1]:F4})");
        }
        (code, _, stderr) = CliRunner.Run("score", "--adapter", adapter, "--data", few, "--out", reducedScores, "--device", "cpu", "--precision", "fp8");
        Assert.Equal(1, code);
        Assert.Contains("unknown precision 'fp8' (expected f32, bf16 or int8)", stderr);
        (code, stdout, stderr) = CliRunner.Run("eval", "--adapter", adapter, "--data", data, "--device", "cpu");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains(record.Scorer switch
        {
            LeadEngine.LeadScoring.TrainingRecord.BlendScorer => "| LeadEngine (default: stacked + LightGBM blend) |",
            LeadEngine.LeadScoring.TrainingRecord.TreesScorer => "| LeadEngine (default: LightGBM alone) |",
            _ => "| LeadEngine (LLM heads) |",
        }, stdout);
        foreach (var row in new[] { ": pairwise head |", "| Funnel+Recency |", "| LightGBM (columns) |", "| LightGBM LambdaRank (funnel grades) |" })
            Assert.Contains(row, stdout);
    }
}
