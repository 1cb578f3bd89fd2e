using System.Runtime.InteropServices;
using System.Text.Json;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>
/// Writes a Qwen2-architecture model folder (config.json + model.safetensors) with seeded random
/// weights: the same seed and config always give the same bytes. Used for tests of unseen shapes,
/// the built-in default model and benchmarks at real shapes without a download.
/// </summary>
public static class SyntheticModel
{
    /// <summary>Writes the model folder <paramref name="directory"/>.</summary>
    /// <param name="directory">Output folder (created).</param>
    /// <param name="config">The architecture.</param>
    /// <param name="dtype">Storage dtype of every tensor.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="maxShardBytes">Split into shards with an index when the data exceed this.</param>
    public static void Write(string directory, QwenConfig config, TensorDType dtype, int seed, long maxShardBytes = long.MaxValue)
    {
        config.Validate(directory);
        Directory.CreateDirectory(directory);
        WriteConfig(Path.Combine(directory, "config.json"), config, dtype);
        var rng = new Random(seed);
        var tensors = new List<TensorData>();
        foreach (var (name, shape) in QwenWeights<F32>.RequiredTensors(config))
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[count];
            bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
            // Norm weights near 1; matrices scaled like a trained model so activations stay O(1).
            float scale = norm ? 0.1f : name.EndsWith(".bias", StringComparison.Ordinal) ? 0.1f : 1f / MathF.Sqrt(shape[^1]);
            for (long i = 0; i < count; i++) values[i] = (norm ? 1f : 0f) + scale * (float)(rng.NextDouble() * 2 - 1) * (norm ? 1f : 1.7f);
            tensors.Add(new TensorData(name, dtype, shape, Encode(values, dtype)));
        }
        WriteShards(directory, tensors, maxShardBytes);
    }

    /// <summary>Raw bytes of <paramref name="values"/> stored as <paramref name="dtype"/> (round to nearest even).</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, TensorDType dtype)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                return MemoryMarshal.AsBytes(values).ToArray();
            case TensorDType.F16:
                var halves = new Half[values.Length];
                for (int i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
                return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            default:
                var bf = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++) bf[i] = Bf16.FromFloat(values[i]).Bits;
                return MemoryMarshal.AsBytes(bf.AsSpan()).ToArray();
        }
    }

    private static void WriteShards(string directory, List<TensorData> tensors, long maxShardBytes)
    {
        var shards = new List<List<TensorData>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (size > 0 && size + t.Data.Length > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(t);
            size += t.Data.Length;
        }
        if (shards.Count == 1)
        {
            SafeTensorWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            return;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafeTensorWriter.Write(Path.Combine(directory, file), shards[i], new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var t in shards[i]) weightMap[t.Name] = file;
        }
        AtomicFile.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = tensors.Sum(t => (long)t.Data.Length) }, weight_map = weightMap }));
    }

    private static void WriteConfig(string path, QwenConfig c, TensorDType dtype)
    {
        var json = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Qwen2ForCausalLM" },
            ["model_type"] = "qwen2",
            ["hidden_act"] = "silu",
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["vocab_size"] = c.VocabSize,
            ["rope_theta"] = c.RopeTheta,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["torch_dtype"] = dtype switch { TensorDType.F32 => "float32", TensorDType.F16 => "float16", _ => "bfloat16" },
        };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }
}
