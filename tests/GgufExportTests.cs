using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.Engine.Gguf;
using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Tests;

/// <summary>
/// <c>export-gguf</c>: the file's layout read back, Q8_0 blocks against a hand computation, and llama.cpp's own
/// last-token hidden state for the same ids against LeadEngine's (where scripts/llama-cpp.sh installed llama.cpp).
/// </summary>
public sealed class GgufExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>The test's llama.cpp (scripts/test.sh sets it from scripts/llama-cpp.sh).</summary>
    public const string LlamaCppVariable = "LEADENGINE_TEST_LLAMA_CPP";

    private string Model()
    {
        // Untied, so output.weight is written; every dimension a multiple of 32, as Q8_0 blocks need.
        var config = new QwenConfig { HiddenSize = 64, Layers = 2, Heads = 4, KvHeads = 2, IntermediateSize = 128, VocabSize = 151936, RopeTheta = 1e6 };
        string dir = Path.Combine(_dir, "model");
        SyntheticModel.Write(dir, config, TensorDType.F32, seed: 4);
        return dir;
    }

    [Fact]
    public void Q8_0BlocksHoldAScaleAndRoundedValues()
    {
        var values = Enumerable.Range(0, 32).Select(i => (i - 10) * 0.5f).ToArray(); // max |x| = 10.5
        var bytes = GgufExport.Q8_0Bytes(values);
        Assert.Equal(34, bytes.Length);
        float d = (float)BitConverter.ToHalf(bytes, 0);
        Assert.Equal(10.5f / 127, d, 3);
        for (int i = 0; i < 32; i++) Assert.Equal(Math.Round(values[i] / (10.5 / 127), MidpointRounding.AwayFromZero), (sbyte)bytes[2 + i]);
        Assert.Throws<ArgumentException>(() => GgufExport.Q8_0Bytes(new float[33]));
    }

    /// <summary>llama.cpp refuses Q8_0 rows that are not whole blocks; the export says so, naming the tensor, instead of writing such a file.</summary>
    [Fact]
    public void Q8_0RefusesRowsThatAreNotWholeBlocks()
    {
        string tiny = RepositoryPaths.DefaultModel(); // intermediate size 176
        var error = Assert.Throws<ArgumentException>(() => GgufExport.Write(Path.Combine(_dir, "ragged.gguf"), tiny,
            QwenTokenizerFiles.Read(QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot)), GgufWeightType.Q8_0));
        Assert.Contains("blk.0.ffn_down.weight has rows of 176", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "ragged.gguf")));
    }

    [Fact]
    public void TheFileReadsBackAsGgufV3WithQwen2Metadata()
    {
        string model = Model(), path = Path.Combine(_dir, "m.gguf");
        GgufExport.Write(path, model, QwenTokenizerFiles.Read(QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot)), GgufWeightType.Q8_0);
        using var reader = new BinaryReader(File.OpenRead(path));
        Assert.Equal("GGUF", Encoding.ASCII.GetString(reader.ReadBytes(4)));
        Assert.Equal(3u, reader.ReadUInt32());
        ulong tensors = reader.ReadUInt64();
        Assert.Equal((ulong)(1 + 2 * 12 + 2), tensors); // embeddings; per layer 2 norms, 7 weights, 3 biases; final norm, output
        ulong keys = reader.ReadUInt64();
        string ReadString() => Encoding.UTF8.GetString(reader.ReadBytes((int)reader.ReadUInt64()));
        Assert.Equal("general.architecture", ReadString());
        Assert.Equal(8u, reader.ReadUInt32());
        Assert.Equal("qwen2", ReadString());
        Assert.True(keys > 15);
    }

    /// <summary>
    /// llama.cpp loads the export as qwen2 and its final-norm hidden state at the last token matches LeadEngine's:
    /// f32 within 1e-4 relative; bf16 and q8_0 report their error (llama.cpp also rounds activations for them).
    /// </summary>
    [Fact]
    public async Task LlamaCppAgreesWithLeadEngineOnTheLastHiddenState()
    {
        string? llama = Environment.GetEnvironmentVariable(LlamaCppVariable);
        if (string.IsNullOrEmpty(llama)) Assert.Skip($"{LlamaCppVariable} is not set: scripts/test.sh installs llama.cpp's prebuilt CPU build with scripts/llama-cpp.sh and sets it");
        string model = Model();
        const string ids = "9707 11 1879 0 3555 374 264 1273";
        var (code, ours, err) = CliRunner.Run("forward", "--model", model, "--ids", ids, "--json", "--device", "cpu");
        Assert.True(code == 0, err);
        var reference = JsonDocument.Parse(ours).RootElement.GetProperty("last_hidden")[0].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        foreach (var (type, tolerance) in new[] { ("f32", 1e-4), ("bf16", 0.05), ("q8_0", 0.1) })
        {
            string path = Path.Combine(_dir, $"m-{type}.gguf");
            var exported = CliRunner.Run("export-gguf", "--model", model, "--out", path, "--type", type);
            Assert.True(exported.Code == 0, exported.Err);
            var start = new ProcessStartInfo("node", [Path.Combine(Fixtures.RepoRoot, "tests", "js", "gguf-hidden.mjs"), path, ids])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, Environment = { ["LLAMA_CPP_DIR"] = llama },
            };
            using var node = Process.Start(start)!;
            var stdout = node.StandardOutput.ReadToEndAsync();
            string stderr = await node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            Assert.True(node.ExitCode == 0, stderr);
            var theirs = JsonDocument.Parse(await stdout).RootElement.GetProperty("hidden").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(reference.Length, theirs.Length);
            double error = Math.Sqrt(reference.Zip(theirs, (a, b) => (a - b) * (a - b)).Sum() / reference.Sum(a => a * a));
            output.WriteLine($"{type}: relative L2 error of llama.cpp's last hidden state against LeadEngine's f32: {error:E2}");
            Assert.True(error <= tolerance, $"{type}: relative error {error:E2} above {tolerance}");
        }
    }
}
