using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;
using System.Text;

namespace LeadEngine.Engine.Gguf;

/// <summary>
/// A Qwen2 model folder (LoRA merged in when given) as a GGUF v3 file that llama.cpp loads as architecture
/// <c>qwen2</c>: its hyper-parameters, the tokenizer (<c>gpt2</c> BPE tokens, types and merges, pre-tokenizer
/// <c>qwen2</c>) and the weights under llama.cpp's names, with dimensions in ggml's order (a PyTorch [out, in] weight
/// is ne = {in, out}); <c>output.weight</c> is left out for tied embeddings. Layout (GGUF v3): magic, version, tensor
/// and key counts, the key/value pairs, the tensor infos, padding to <see cref="Alignment"/>, then each tensor's data at
/// an offset aligned to it.
/// </summary>
public static class GgufExport
{
    /// <summary>The weight type named <c>f32</c>, <c>bf16</c> or <c>q8_0</c> (llama.cpp's names), or null for another name.</summary>
    public static GgufWeightType? ParseType(string name) => name switch
    {
        "f32" => GgufWeightType.F32,
        "bf16" => GgufWeightType.Bf16,
        "q8_0" => GgufWeightType.Q8_0,
        _ => null,
    };

    /// <summary>Alignment of the data section and of every tensor in it.</summary>
    public const int Alignment = 32;

    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }

    /// <summary>ggml tensor types used here.</summary>
    private enum TensorType : uint { F32 = 0, Q8_0 = 8, BF16 = 30 }

    /// <summary>Writes <paramref name="path"/> (atomically) from <paramref name="modelDir"/>, its tokenizer and, when given, a LoRA adapter merged into the weights.</summary>
    public static void Write(string path, string modelDir, QwenTokenizerFiles tokenizer, GgufWeightType type, LoraAdapter? adapter = null)
    {
        var c = QwenConfig.Load(modelDir);
        using var store = SafeTensorStore.Open(modelDir);
        // Each tensor is read (and merged) only when its turn to be written comes, so one tensor is in memory at a time.
        var tensors = new List<(string Name, long[] Shape, Func<float[]> Read)>();
        void Add(string name, string source, params long[] shape) => tensors.Add((name, shape, () => store.ReadFloat32(source)));
        Add("token_embd.weight", "model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            string p = $"model.layers.{layer}.", b = $"blk.{layer}.";
            Add(b + "attn_norm.weight", p + "input_layernorm.weight", c.HiddenSize);
            foreach (var (target, name) in new[] { (LoraTarget.Q, "attn_q"), (LoraTarget.K, "attn_k"), (LoraTarget.V, "attn_v"), (LoraTarget.O, "attn_output"),
                (LoraTarget.Gate, "ffn_gate"), (LoraTarget.Up, "ffn_up"), (LoraTarget.Down, "ffn_down") })
            {
                string module = p + LoraAdapter.ModuleName(target);
                var (outDim, inDim) = LoraAdapter.ProjectionShape(c, target);
                int l = layer;
                tensors.Add((b + name + ".weight", [outDim, inDim], () =>
                {
                    var w = store.ReadFloat32(module + ".weight");
                    adapter?.MergeInto(w, l, target, c);
                    return w;
                }
                ));
                if (store.Contains(module + ".bias")) Add(b + name + ".bias", module + ".bias", outDim);
            }
            Add(b + "ffn_norm.weight", p + "post_attention_layernorm.weight", c.HiddenSize);
        }
        Add("output_norm.weight", "model.norm.weight", c.HiddenSize);
        if (!c.TieWordEmbeddings) Add("output.weight", "lm_head.weight", c.VocabSize, c.HiddenSize);

        // ggml quantizes along a row: llama.cpp refuses a Q8_0 tensor whose rows are not whole blocks.
        if (type == GgufWeightType.Q8_0 && tensors.FirstOrDefault(t => t.Shape.Length == 2 && t.Shape[1] % 32 != 0) is { Name: not null } ragged)
            throw new ArgumentException($"{modelDir}: q8_0 quantizes rows in blocks of 32 values, and {ragged.Name} has rows of {ragged.Shape[1]}; export it as f32 or bf16");
        var (tokens, types) = Tokens(tokenizer, c.VocabSize);
        var keys = new List<(string Key, ValueType Type, object Value)>
        {
            ("general.architecture", ValueType.String, "qwen2"),
            ("general.name", ValueType.String, Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd(Path.DirectorySeparatorChar))),
            ("general.alignment", ValueType.UInt32, (uint)Alignment),
            ("general.file_type", ValueType.UInt32, type switch { GgufWeightType.F32 => 0u, GgufWeightType.Bf16 => 32u, _ => 7u }),
            ("qwen2.context_length", ValueType.UInt32, (uint)c.MaxPositionEmbeddings),
            ("qwen2.embedding_length", ValueType.UInt32, (uint)c.HiddenSize),
            ("qwen2.block_count", ValueType.UInt32, (uint)c.Layers),
            ("qwen2.feed_forward_length", ValueType.UInt32, (uint)c.IntermediateSize),
            ("qwen2.attention.head_count", ValueType.UInt32, (uint)c.Heads),
            ("qwen2.attention.head_count_kv", ValueType.UInt32, (uint)c.KvHeads),
            ("qwen2.rope.freq_base", ValueType.Float32, (float)c.RopeTheta),
            ("qwen2.attention.layer_norm_rms_epsilon", ValueType.Float32, (float)c.RmsNormEps),
            ("tokenizer.ggml.model", ValueType.String, "gpt2"),
            ("tokenizer.ggml.pre", ValueType.String, "qwen2"),
            ("tokenizer.ggml.tokens", ValueType.Array, tokens),
            ("tokenizer.ggml.token_type", ValueType.Array, types),
            ("tokenizer.ggml.merges", ValueType.Array, tokenizer.Merges),
            ("tokenizer.ggml.bos_token_id", ValueType.UInt32, (uint)QwenTokenizer.EndOfText),
            ("tokenizer.ggml.eos_token_id", ValueType.UInt32, (uint)QwenTokenizer.EndOfText),
            ("tokenizer.ggml.padding_token_id", ValueType.UInt32, (uint)QwenTokenizer.EndOfText),
            ("tokenizer.ggml.add_bos_token", ValueType.Bool, false),
        };

        // Each tensor's stored type: 1-D stays f32, 2-D takes the asked type.
        TensorType StoredType(long[] shape) => shape.Length == 1 || type == GgufWeightType.F32 ? TensorType.F32
            : type == GgufWeightType.Bf16 ? TensorType.BF16 : TensorType.Q8_0;

        AtomicFile.Write(path, output =>
        {
            using var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
            w.Write(0x46554747u); // "GGUF"
            w.Write(3u);
            w.Write((ulong)tensors.Count);
            w.Write((ulong)keys.Count);
            foreach (var (key, valueType, value) in keys)
            {
                WriteString(w, key);
                w.Write((uint)valueType);
                WriteValue(w, valueType, value);
            }
            ulong offset = 0;
            foreach (var (name, shape, _) in tensors)
            {
                WriteString(w, name);
                w.Write((uint)shape.Length);
                foreach (long dim in shape.Reverse()) w.Write((ulong)dim);
                var stored = StoredType(shape);
                w.Write((uint)stored);
                w.Write(offset);
                offset += Aligned((ulong)ByteCount(stored, shape.Aggregate(1L, (n, d) => n * d)));
            }
            Pad(w);
            foreach (var (name, shape, read) in tensors)
            {
                var data = read();
                w.Write(StoredType(shape) switch { TensorType.F32 => F32Bytes(data), TensorType.BF16 => Bf16Bytes(data), _ => Q8_0Bytes(data, name) });
                Pad(w);
            }
        });
    }

    /// <summary>Bytes of <paramref name="count"/> values stored as <paramref name="type"/> (Q8_0: 34 per block of 32).</summary>
    private static long ByteCount(TensorType type, long count) => type switch { TensorType.F32 => 4 * count, TensorType.BF16 => 2 * count, _ => count / 32 * 34 };

    /// <summary>
    /// Every id's token text and GGUF token type for a vocabulary of <paramref name="size"/>: 1 normal, 3 control (added
    /// tokens that are special or look it, <c>&lt;|…|&gt;</c>: Qwen marks <c>&lt;|fim_prefix|&gt;</c> and the like as not
    /// special, llama.cpp treats them as control), 4 user-defined (other added tokens), 5 unused (<c>[PAD{id}]</c> for ids
    /// the tokenizer does not have).
    /// </summary>
    private static (IReadOnlyList<string> Tokens, IReadOnlyList<int> Types) Tokens(QwenTokenizerFiles tokenizer, int size)
    {
        var tokens = new string[size];
        var types = new int[size];
        for (int id = 0; id < size; id++) (tokens[id], types[id]) = ($"[PAD{id}]", 5);
        foreach (var (text, id) in tokenizer.Vocabulary)
            if (id < size) (tokens[id], types[id]) = (text, 1);
        foreach (var added in tokenizer.AddedTokens)
            if (added.Id < size)
                (tokens[added.Id], types[added.Id]) = (added.Content,
                    added.Special || added.Content.StartsWith("<|", StringComparison.Ordinal) && added.Content.EndsWith("|>", StringComparison.Ordinal) ? 3 : 4);
        return (tokens, types);
    }

    private static ulong Aligned(ulong n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        long position = w.BaseStream.Position;
        w.Write(new byte[(int)((ulong)Aligned((ulong)position) - (ulong)position)]);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, ValueType type, object value)
    {
        switch (type)
        {
            case ValueType.UInt32: w.Write((uint)value); break;
            case ValueType.Int32: w.Write((int)value); break;
            case ValueType.Float32: w.Write((float)value); break;
            case ValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case ValueType.String: WriteString(w, (string)value); break;
            case ValueType.Array when value is IReadOnlyList<string> strings:
                w.Write((uint)ValueType.String);
                w.Write((ulong)strings.Count);
                foreach (string s in strings) WriteString(w, s);
                break;
            case ValueType.Array when value is IReadOnlyList<int> ints:
                w.Write((uint)ValueType.Int32);
                w.Write((ulong)ints.Count);
                foreach (int i in ints) w.Write(i);
                break;
            default: throw new ArgumentException($"no GGUF encoding for {type} {value.GetType().Name}");
        }
    }

    private static byte[] F32Bytes(float[] data)
    {
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static byte[] Bf16Bytes(float[] data)
    {
        var bytes = new byte[data.Length * 2];
        for (int i = 0; i < data.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), Bf16.FromFloat(data[i]).Bits);
        return bytes;
    }

    /// <summary>Q8_0: per block of 32 values an fp16 scale d = max|x| / 127 and the int8 values round(x / d), 34 bytes a block.</summary>
    public static byte[] Q8_0Bytes(float[] data, string name = "tensor")
    {
        if (data.Length % 32 != 0) throw new ArgumentException($"{name}: {data.Length} values are not whole blocks of 32 (Q8_0)");
        var bytes = new byte[data.Length / 32 * 34];
        for (int block = 0; block < data.Length / 32; block++)
        {
            var values = data.AsSpan(block * 32, 32);
            float max = 0;
            foreach (float v in values) max = Math.Max(max, Math.Abs(v));
            float d = max / 127;
            float inverse = d == 0 ? 0 : 1 / d;
            BitConverter.TryWriteBytes(bytes.AsSpan(block * 34), (Half)d);
            for (int i = 0; i < 32; i++) bytes[block * 34 + 2 + i] = unchecked((byte)(sbyte)Math.Round(values[i] * inverse, MidpointRounding.AwayFromZero));
        }
        return bytes;
    }
}
