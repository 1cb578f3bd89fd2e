using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Tests;

/// <summary>Unseen shapes against the plain C# reference model, and the model's input errors.</summary>
public sealed class ModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static QwenConfig Shape(int hidden, int layers, int heads, int kvHeads, int inter, int vocab, bool tied) => new()
    {
        HiddenSize = hidden, Layers = layers, Heads = heads, KvHeads = kvHeads,
        IntermediateSize = inter, VocabSize = vocab, TieWordEmbeddings = tied, RopeTheta = 1e6,
    };

    public static IEnumerable<object[]> UnseenShapes() =>
    [
        ["one-kv-head-bf16", Shape(30, 2, 5, 1, 47, 61, true), TensorDType.BF16, long.MaxValue],
        ["gqa3-f16-untied", Shape(36, 1, 6, 2, 50, 45, false), TensorDType.F16, long.MaxValue],
        ["mha-f32-sharded", Shape(24, 3, 2, 2, 40, 33, false), TensorDType.F32, 4000L],
    ];

    [Theory]
    [MemberData(nameof(UnseenShapes))]
    public void UnseenShapeMatchesReferenceModel(string name, QwenConfig config, TensorDType dtype, long shardBytes)
    {
        string dir = Path.Combine(_dir, name);
        SyntheticModel.Write(dir, config, dtype, seed: 7, shardBytes);
        int[][] sequences = [[1, 5, 9, 2, 7, 3, 3, 8, 1, 4, 6], [2], [30, 31, 32, 0, 5]];
        using var model = QwenModel.Load(dir, Fixtures.Simd);
        Assert.Equal(dtype, model.WeightDType);
        var result = model.Forward(sequences);
        var (hidden, logits) = ReferenceModel.Forward(dir, sequences);
        for (int b = 0; b < sequences.Length; b++)
        {
            Close.Check(hidden[b], result.LastHidden[b], 1e-4, $"{name} hidden[{b}]");
            Close.Check(logits[b], result.LastLogits[b], 1e-4, $"{name} logits[{b}]");
        }
    }

    [Fact]
    public void BatchingDoesNotChangeASequence()
    {
        string dir = Fixtures.ModelDir("tiny-qwen2-gqa-tied");
        using var model = QwenModel.Load(dir, Fixtures.Simd);
        int[] seq = [5, 9, 100, 7];
        var alone = model.Forward([seq]);
        var batched = model.Forward([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], seq]);
        Close.Check(alone.LastLogits[0], batched.LastLogits[1], 1e-5, "padded vs alone");
    }

    /// <summary>
    /// A frozen adapter scores as the same adapter unfrozen (on the SIMD backend it is folded into the
    /// packed weights, elsewhere it runs as LoRA), refuses writes and training, and disposing it drops its
    /// folded copies, so a later adapter never scores with them.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures.Backends), MemberType = typeof(Fixtures))]
    public void FrozenAdapterScoresAsUnfrozenAndRefusesChanges(string backend)
    {
        var device = Fixtures.Backend(backend);
        using var model = QwenModel.Load(Fixtures.ModelDir("tiny-qwen2-gqa-tied"), device);
        int[][] sequences = [[5, 9, 100, 7, 3, 3], [2, 40]];
        using var heads = ScoreHeads.Create(model.Config, device, seed: 2);
        foreach (int seed in new[] { 3, 4 })
        {
            using var live = LoraAdapter.Create(model.Config, device, rank: 4, alpha: 8, LoraAdapter.AllTargets, seed);
            using var frozen = LoraAdapter.Create(model.Config, device, rank: 4, alpha: 8, LoraAdapter.AllTargets, seed);
            var rng = new Random(seed); // B starts at zero: give both adapters the same nonzero values
            var values = Enumerable.Range(0, (int)live.Parameters.Count).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.2f).ToArray();
            live.Parameters.WriteAllValues(values);
            frozen.Parameters.WriteAllValues(values);
            frozen.Freeze();
            var expected = model.Forward(sequences, new ForwardOptions { Adapter = live, Heads = heads, LogitTokenIds = [1, 2] });
            for (int call = 0; call < 2; call++)
            {
                var actual = model.Forward(sequences, new ForwardOptions { Adapter = frozen, Heads = heads, LogitTokenIds = [1, 2] });
                for (int b = 0; b < sequences.Length; b++)
                {
                    Close.Check(expected.LastHidden[b], actual.LastHidden[b], 1e-5, $"seed {seed} hidden[{b}]");
                    Close.Check(expected.LastLogits[b], actual.LastLogits[b], 1e-5, $"seed {seed} logits[{b}]");
                }
                Close.Check(expected.Heads!.PointwiseLogits, actual.Heads!.PointwiseLogits, 1e-5, $"seed {seed} pointwise");
            }
            Assert.Throws<InvalidOperationException>(() => frozen.Parameters.WriteAllValues(new float[frozen.Parameters.Count]));
            Assert.Throws<ArgumentException>(() => new LeadEngine.Training.AdamW(new LeadEngine.Training.AdamWOptions(), frozen.Parameters));
        }
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        string dir = Path.Combine(_dir, "missing");
        var config = Shape(16, 1, 2, 1, 24, 20, true);
        SyntheticModel.Write(dir, config, TensorDType.F32, 1);
        string file = Path.Combine(dir, "model.safetensors");
        using (var st = SafeTensorFile.Open(file))
        {
            var kept = st.Tensors.Values.Where(t => t.Name != "model.layers.0.mlp.up_proj.weight")
                .Select(t => new TensorData(t.Name, t.DType, t.Shape, st.GetBytes(t).ToArray())).ToList();
            st.Dispose();
            SafeTensorWriter.Write(file, kept);
        }
        var e = Assert.Throws<SafeTensorsException>(() => QwenModel.Load(dir, Fixtures.Simd));
        Assert.Equal("model.layers.0.mlp.up_proj.weight", e.TensorName);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTensorAndShapes()
    {
        string dir = Path.Combine(_dir, "mismatch");
        SyntheticModel.Write(dir, Shape(16, 1, 2, 1, 24, 20, true), TensorDType.BF16, 1);
        string configPath = Path.Combine(dir, "config.json");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"intermediate_size\": 24", "\"intermediate_size\": 25"));
        var e = Assert.Throws<SafeTensorsException>(() => QwenModel.Load(dir, Fixtures.Simd));
        Assert.Equal("model.layers.0.mlp.gate_proj.weight", e.TensorName);
        Assert.Contains("[24, 16]", e.Message);
        Assert.Contains("[25, 16]", e.Message);
    }

    [Theory]
    [InlineData("\"num_attention_heads\": 2", "\"num_attention_heads\": 3", "not divisible by num_attention_heads")]
    [InlineData("\"num_key_value_heads\": 1", "\"num_key_value_heads\": 3", "not divisible by num_key_value_heads")]
    [InlineData("\"hidden_size\": 16,", "", "missing required field 'hidden_size'")]
    [InlineData("\"vocab_size\": 20", "\"vocab_size\": -4", "'vocab_size' must be a positive integer")]
    public void InconsistentConfigIsRejectedBeforeAnyKernel(string find, string replace, string expected)
    {
        string dir = Path.Combine(_dir, "config");
        SyntheticModel.Write(dir, Shape(16, 1, 2, 1, 24, 20, true), TensorDType.F32, 1);
        string configPath = Path.Combine(dir, "config.json");
        string text = File.ReadAllText(configPath);
        Assert.Contains(find, text);
        File.WriteAllText(configPath, text.Replace(find, replace));
        var e = Assert.Throws<ModelConfigException>(() => QwenModel.Load(dir, Fixtures.Simd));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void TokenOutsideVocabularyIsNamed()
    {
        using var model = QwenModel.Load(Fixtures.ModelDir("tiny-qwen2-gqa-tied"), Fixtures.Simd);
        var e = Assert.Throws<ArgumentException>(() => model.Forward([[1, 2], [3, 512]]));
        Assert.Contains("sequence 1, position 1: token id 512", e.Message);
        Assert.Throws<ArgumentException>(() => model.Forward([[]]));
    }
}
