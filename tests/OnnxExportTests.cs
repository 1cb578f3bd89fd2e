using LeadEngine.Engine;
using LeadEngine.Engine.Onnx;
using LeadEngine.Kernels;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LeadEngine.Tests;

/// <summary>The exported ONNX graph, run by ONNX Runtime, scores like the engine.</summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("tiny-qwen2-gqa-tied")]
    [InlineData("tiny-qwen15-mha-untied")]
    public void OnnxRuntimeMatchesTheEngineWithMergedAdapterAndPadding(string name)
    {
        string modelDir = Fixtures.ModelDir(name);
        var device = Fixtures.Simd;
        using var model = QwenModel.Load(modelDir, device);
        var c = model.Config;
        using var adapter = LoraAdapter.Create(c, device, rank: 4, alpha: 8, LoraAdapter.AllTargets, seed: 3);
        var values = adapter.Parameters.ReadAllValues();
        var rng = new Random(4);
        for (int i = 0; i < values.Length; i++) values[i] += (float)(rng.NextDouble() - 0.5) * 0.1f; // B is zero at creation
        adapter.Parameters.WriteAllValues(values);
        using var heads = ScoreHeads.Create(c, device, seed: 5);
        int[] answers = [7, 3];
        string path = Path.Combine(_dir, "model.onnx");
        OnnxExport.Write(path, modelDir, answers, adapter, heads, maxSequence: 64);

        // Right-padded batch of different lengths: the graph reads each sequence at its own last token.
        int[][] sequences = [[5, 9, 2, 11, 4, 8, 1], [3, 3, 7], [12, 1, 6, 6, 2]];
        var ours = model.Forward(sequences, new ForwardOptions { Adapter = adapter, Heads = heads, LogitTokenIds = answers });
        int seqLen = sequences.Max(s => s.Length);
        var ids = new long[sequences.Length * seqLen];
        for (int b = 0; b < sequences.Length; b++)
            for (int t = 0; t < sequences[b].Length; t++) ids[b * seqLen + t] = sequences[b][t];
        using var session = new InferenceSession(path);
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [sequences.Length, seqLen])),
            NamedOnnxValue.CreateFromTensor("lengths", new DenseTensor<long>(sequences.Select(s => (long)s.Length).ToArray(), [sequences.Length])),
        ]);
        var logits = results.First(r => r.Name == "answer_logits").AsEnumerable<float>().ToArray();
        var scores = results.First(r => r.Name == "scores").AsEnumerable<float>().ToArray();
        for (int b = 0; b < sequences.Length; b++)
        {
            Close.Check(ours.LastLogits[b], logits.AsSpan(2 * b, 2), 1e-4, $"{name} answer logits [{b}]");
            Close.Check([ours.Heads!.PointwiseLogits[b], ours.Heads!.PairwiseScores[b]], scores.AsSpan(2 * b, 2), 1e-4, $"{name} scores [{b}]");
        }
    }

    [Fact]
    public void RejectsAnswerTokensOutsideTheVocabulary()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            OnnxExport.Write(Path.Combine(_dir, "bad.onnx"), Fixtures.ModelDir("tiny-qwen2-gqa-tied"), [1_000_000], null, null));
        Assert.Contains("1000000", e.Message);
    }
}
