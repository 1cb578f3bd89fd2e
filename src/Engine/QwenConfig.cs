using System.Text.Json;

namespace LeadEngine.Engine;

/// <summary>The Qwen2 architecture hyper-parameters from a Hugging Face <c>config.json</c>.</summary>
public sealed record QwenConfig
{
    /// <summary>Hidden size.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Decoder layers.</summary>
    public required int Layers { get; init; }
    /// <summary>Query heads.</summary>
    public required int Heads { get; init; }
    /// <summary>Key/value heads (GQA); equal to <see cref="Heads"/> for Qwen1.5's MHA.</summary>
    public required int KvHeads { get; init; }
    /// <summary>MLP intermediate size.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Vocabulary rows of the embedding and LM head.</summary>
    public required int VocabSize { get; init; }
    /// <summary>RoPE base θ.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>True when the LM head reuses the embedding (no <c>lm_head.weight</c>).</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>The checkpoint's declared dtype, if any.</summary>
    public string? TorchDtype { get; init; }
    /// <summary>Longest position the model was trained for.</summary>
    public int MaxPositionEmbeddings { get; init; } = 32768;

    /// <summary>Per-head dimension.</summary>
    public int HeadDim => HiddenSize / Heads;

    /// <summary>
    /// Ids of Qwen's "Yes" and "No" tokens, for random-weight benchmarks and profiles without a tokenizer
    /// (clamped into smaller vocabularies); scoring takes them from the tokenizer instead.
    /// </summary>
    public int[] BenchmarkAnswerTokenIds() => [Math.Min(9454, VocabSize - 1), Math.Min(2753, VocabSize - 2)];

    /// <summary>
    /// Published architectures by lower-case name (<c>qwen2.5-0.5b</c>, <c>qwen2.5-1.5b</c>,
    /// <c>qwen1.5-1.8b</c>): the shapes benchmarks and profiles run at with random weights.
    /// </summary>
    public static IReadOnlyDictionary<string, QwenConfig> Presets { get; } = new Dictionary<string, QwenConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["qwen2.5-0.5b"] = new() { HiddenSize = 896, Layers = 24, Heads = 14, KvHeads = 2, IntermediateSize = 4864, VocabSize = 151936, TieWordEmbeddings = true, RopeTheta = 1e6 },
        ["qwen2.5-1.5b"] = new() { HiddenSize = 1536, Layers = 28, Heads = 12, KvHeads = 2, IntermediateSize = 8960, VocabSize = 151936, TieWordEmbeddings = true, RopeTheta = 1e6 },
        ["qwen1.5-1.8b"] = new() { HiddenSize = 2048, Layers = 24, Heads = 16, KvHeads = 16, IntermediateSize = 5504, VocabSize = 151936, RopeTheta = 1e6 },
    };

    /// <summary>Reads and validates <c>config.json</c> in <paramref name="modelDir"/>.</summary>
    /// <exception cref="ModelConfigException">Missing file, missing field or inconsistent sizes.</exception>
    public static QwenConfig Load(string modelDir)
    {
        string path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) throw new ModelConfigException($"{path}: file not found");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{path}: not well-formed JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelConfigException($"{path}: not a JSON object");
            int heads = RequiredInt(path, root, "num_attention_heads");
            var config = new QwenConfig
            {
                HiddenSize = RequiredInt(path, root, "hidden_size"),
                Layers = RequiredInt(path, root, "num_hidden_layers"),
                Heads = heads,
                KvHeads = OptionalInt(path, root, "num_key_value_heads") ?? heads,
                IntermediateSize = RequiredInt(path, root, "intermediate_size"),
                VocabSize = RequiredInt(path, root, "vocab_size"),
                RopeTheta = OptionalDouble(path, root, "rope_theta") ?? 10000.0,
                RmsNormEps = OptionalDouble(path, root, "rms_norm_eps") ?? 1e-6,
                TieWordEmbeddings = root.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.True,
                TorchDtype = root.TryGetProperty("torch_dtype", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString() : null,
                MaxPositionEmbeddings = OptionalInt(path, root, "max_position_embeddings") ?? 32768,
            };
            config.Validate(path);
            return config;
        }
    }

    /// <summary>Checks the sizes are consistent; <paramref name="source"/> names the origin in errors.</summary>
    public void Validate(string source)
    {
        if (HiddenSize % Heads != 0)
            throw new ModelConfigException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {Heads}");
        if (Heads % KvHeads != 0)
            throw new ModelConfigException($"{source}: num_attention_heads {Heads} is not divisible by num_key_value_heads {KvHeads}");
        if (HeadDim % 2 != 0)
            throw new ModelConfigException($"{source}: head dimension {HeadDim} is odd; rotary embedding needs an even one");
        if (HeadDim > Kernels.AttentionKernels.MaxHeadDim)
            throw new ModelConfigException($"{source}: head dimension {HeadDim} exceeds the supported {Kernels.AttentionKernels.MaxHeadDim}");
        if (RmsNormEps <= 0) throw new ModelConfigException($"{source}: rms_norm_eps must be positive");
        if (RopeTheta <= 0) throw new ModelConfigException($"{source}: rope_theta must be positive");
    }

    private static int RequiredInt(string path, JsonElement root, string name) =>
        OptionalInt(path, root, name) ?? throw new ModelConfigException($"{path}: missing required field '{name}'");

    private static int? OptionalInt(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v) || v <= 0)
            throw new ModelConfigException($"{path}: field '{name}' must be a positive integer");
        return v;
    }

    private static double? OptionalDouble(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number) throw new ModelConfigException($"{path}: field '{name}' must be a number");
        return e.GetDouble();
    }
}
