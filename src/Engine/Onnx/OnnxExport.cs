using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine.Onnx;

/// <summary>
/// Writes the lead scorer as an ONNX graph of standard opset-17 operators, for ONNX Runtime
/// comparisons on identical weights. Inputs: <c>input_ids</c> [batch, seq] int64 (right-padded) and
/// <c>lengths</c> [batch] int64. Outputs at each sequence's last real token: <c>answer_logits</c>
/// [batch, 2] (the LM logits of the given answer tokens) and, with heads, <c>scores</c> [batch, 2]
/// (pointwise logit, pairwise score). With right padding and causal attention, padding never
/// reaches real tokens, so there is no attention mask input. Weights are fp32 (bf16/fp16 widened
/// exactly), a LoRA adapter is merged into them (W + scale·B·A), and they live in
/// <c>FILE.data</c> beside the model.
/// </summary>
public static class OnnxExport
{
    /// <summary>Writes <paramref name="path"/> and <c>path.data</c>.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="modelDir">Model folder (config.json + safetensors).</param>
    /// <param name="answerTokenIds">Token ids whose logits become <c>answer_logits</c> (e.g. Yes, No).</param>
    /// <param name="adapter">LoRA adapter to merge, or null.</param>
    /// <param name="heads">Score heads, or null for no <c>scores</c> output.</param>
    /// <param name="maxSequence">Longest sequence the graph accepts (sizes the RoPE and mask tables).</param>
    public static void Write(string path, string modelDir, IReadOnlyList<int> answerTokenIds, LoraAdapter? adapter, ScoreHeads? heads, int maxSequence = 2048)
    {
        var c = QwenConfig.Load(modelDir);
        using var store = SafeTensorStore.Open(modelDir);
        foreach (var (name, shape) in QwenWeights<F32>.RequiredTensors(c))
        {
            if (!store.Contains(name)) throw new InvalidDataException($"{store.Source}: missing tensor {name}");
            var info = store.Get(name).Info;
            if (!info.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{store.Source}: tensor {name} has shape {info.ShapeText}, expected [{string.Join(", ", shape)}]");
        }
        foreach (int id in answerTokenIds)
            if ((uint)id >= c.VocabSize) throw new ArgumentException($"answer token {id} is outside the vocabulary ({c.VocabSize})");

        using var g = new OnnxWriter(path + ".data");
        int h = c.HiddenSize, d = c.HeadDim, nh = c.Heads, nkv = c.KvHeads;
        g.Input("input_ids", OnnxWriter.DataType.Int64, "batch", "sequence");
        g.Input("lengths", OnnxWriter.DataType.Int64, "batch");

        // Sequence length as a 1-D tensor, and the RoPE / causal-mask tables cut to it.
        string seq = g.Node("Unsqueeze", [g.Node("Gather", [g.Node("Shape", ["input_ids"]), g.Initializer("one_scalar", [], [1L])], attributes: ("axis", 0)),
            g.Initializer("axes_0", [1], [0L])]);
        var (cosHalf, sinHalf) = RopeKernels.BuildTable(maxSequence, d, c.RopeTheta);
        string cos = Rows(g, g.Initializer("rope_cos", [maxSequence, d], Duplicate(cosHalf, maxSequence, d / 2)), seq);
        string sin = Rows(g, g.Initializer("rope_sin", [maxSequence, d], Duplicate(sinHalf, maxSequence, d / 2)), seq);
        var maskTable = new float[(long)maxSequence * maxSequence];
        for (int i = 0; i < maxSequence; i++)
            for (int j = i + 1; j < maxSequence; j++) maskTable[(long)i * maxSequence + j] = -1e30f;
        string mask = g.Node("Slice", [g.Initializer("causal_mask", [maxSequence, maxSequence], maskTable), g.Initializer("zeros_2", [2], [0L, 0L]),
            g.Node("Concat", [seq, seq], attributes: ("axis", 0)), g.Initializer("axes_01", [2], [0L, 1L])]);

        var embedding = store.ReadFloat32("model.embed_tokens.weight");
        // Only the answer tokens' LM rows are needed; take them now so a tied table is read once.
        var lm = c.TieWordEmbeddings ? embedding : store.ReadFloat32("lm_head.weight");
        var answers = new float[answerTokenIds.Count * h];
        for (int i = 0; i < answerTokenIds.Count; i++) lm.AsSpan(answerTokenIds[i] * h, h).CopyTo(answers.AsSpan(i * h));
        string x = g.Node("Gather", [g.Initializer("embed_tokens", [c.VocabSize, h], embedding), "input_ids"], attributes: ("axis", 0));
        string eps = g.Initializer("eps", [], [(float)c.RmsNormEps]);
        string scale = g.Initializer("attention_scale", [], [1f / MathF.Sqrt(d)]);
        var halves = (g.Initializer("rope_zero", [1], [0L]), g.Initializer("rope_half", [1], [(long)d / 2]), g.Initializer("rope_full", [1], [(long)d]),
            g.Initializer("last_axis", [1], [-1L]));
        // Row of each sequence's last real token, for GatherND over [B, T, ·].
        string last = g.Node("Unsqueeze", [g.Node("Sub", ["lengths", g.Initializer("one", [], [1L])]), g.Initializer("axes_1", [1], [1L])]);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            string p = $"model.layers.{layer}.";
            string xn = RmsNorm(g, x, store.ReadFloat32(p + "input_layernorm.weight"), eps, $"l{layer}_input_norm");
            string q = Linear(g, store, c, xn, layer, LoraTarget.Q, adapter);
            string k = Linear(g, store, c, xn, layer, LoraTarget.K, adapter);
            string v = Linear(g, store, c, xn, layer, LoraTarget.V, adapter);
            // [B,T,heads·d] → [B,heads,T,d]; rotate q and k.
            q = Rope(g, Heads(g, q, nh, d), cos, sin, halves);
            k = Rope(g, Heads(g, k, nkv, d), cos, sin, halves);
            v = Heads(g, v, nkv, d);
            // GQA without copies: q as [B,kv,group,T,d] against k, v as [B,kv,1,T,d] (MatMul broadcasts).
            string q5 = g.Node("Reshape", [q, g.Initializer($"l{layer}_q5", [5], [0L, nkv, nh / nkv, -1, d])]);
            string k5 = g.Node("Unsqueeze", [k, g.Initializer($"l{layer}_axes_2", [1], [2L])]);
            string v5 = g.Node("Unsqueeze", [v, $"l{layer}_axes_2"]);
            string scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q5, g.Node("Transpose", [k5], attributes: ("perm", new long[] { 0, 1, 2, 4, 3 }))]), scale]), mask]);
            string attn = g.Node("MatMul", [g.Node("Softmax", [scores], attributes: ("axis", -1)), v5]);
            attn = g.Node("Reshape", [attn, g.Initializer($"l{layer}_heads", [4], [0L, nh, -1, d])]);
            attn = g.Node("Reshape", [g.Node("Transpose", [attn], attributes: ("perm", new long[] { 0, 2, 1, 3 })), g.Initializer($"l{layer}_merge", [3], [0L, 0, nh * d])]);
            if (layer == c.Layers - 1)
            {
                // As in the engine: only the last real tokens reach the heads, so the last layer's
                // o_proj and MLP run on [B, ·] rows.
                attn = g.Node("GatherND", [attn, last], attributes: ("batch_dims", 1));
                x = g.Node("GatherND", [x, last], attributes: ("batch_dims", 1));
            }
            x = g.Node("Add", [x, Linear(g, store, c, attn, layer, LoraTarget.O, adapter)]);

            xn = RmsNorm(g, x, store.ReadFloat32(p + "post_attention_layernorm.weight"), eps, $"l{layer}_post_norm");
            string gate = Linear(g, store, c, xn, layer, LoraTarget.Gate, adapter);
            string up = Linear(g, store, c, xn, layer, LoraTarget.Up, adapter);
            string act = g.Node("Mul", [g.Node("Mul", [gate, g.Node("Sigmoid", [gate])]), up]);
            x = g.Node("Add", [x, Linear(g, store, c, act, layer, LoraTarget.Down, adapter)]);
        }

        // Final norm and heads on the last tokens.
        string hidden = RmsNorm(g, x, store.ReadFloat32("model.norm.weight"), eps, "final_norm");
        g.Node("MatMul", [hidden, g.Initializer("answer_weight", [h, answerTokenIds.Count], Transpose(answers, answerTokenIds.Count, h))], "answer_logits");
        g.Output("answer_logits", OnnxWriter.DataType.Float, "batch", answerTokenIds.Count);
        if (heads is not null)
        {
            var weight = Read(heads.Weight);
            var bias = Read(heads.Bias);
            g.Node("Add", [g.Node("MatMul", [hidden, g.Initializer("score_weight", [h, 2], Transpose(weight, 2, h))]), g.Initializer("score_bias", [2], bias)], "scores");
            g.Output("scores", OnnxWriter.DataType.Float, "batch", 2);
        }
        g.Save(path, "leadengine_qwen2_scorer");
    }

    /// <summary>x·Wᵀ (+ bias) with W (+ scale·B·A when adapted) stored transposed as [in, out].</summary>
    private static string Linear(OnnxWriter g, SafeTensorStore store, QwenConfig c, string x, int layer, LoraTarget target, LoraAdapter? adapter)
    {
        string module = $"model.layers.{layer}.{LoraAdapter.ModuleName(target)}";
        var (outDim, inDim) = LoraAdapter.ProjectionShape(c, target);
        var w = store.ReadFloat32(module + ".weight");
        adapter?.MergeInto(w, layer, target, c);
        string y = g.Node("MatMul", [x, g.Initializer(module + ".weight_t", [inDim, outDim], Transpose(w, outDim, inDim))]);
        return store.Contains(module + ".bias") ? g.Node("Add", [y, g.Initializer(module + ".bias", [outDim], store.ReadFloat32(module + ".bias"))]) : y;
    }

    private static string RmsNorm(OnnxWriter g, string x, float[] weight, string eps, string name)
    {
        string meanSquare = g.Node("ReduceMean", [g.Node("Mul", [x, x])], attributes: [("axes", new long[] { -1 }), ("keepdims", 1)]);
        string inverse = g.Node("Reciprocal", [g.Node("Sqrt", [g.Node("Add", [meanSquare, eps])])]);
        return g.Node("Mul", [g.Node("Mul", [x, inverse]), g.Initializer(name, [weight.Length], weight)]);
    }

    /// <summary>[B,T,n·d] → [B,n,T,d].</summary>
    private static string Heads(OnnxWriter g, string x, int n, int d) =>
        g.Node("Transpose", [g.Node("Reshape", [x, g.Initializer(g.Name("heads_shape"), [4], [0L, 0, n, d])])], attributes: ("perm", new long[] { 0, 2, 1, 3 }));

    /// <summary>Rotate-half RoPE: x·cos + [−x₂, x₁]·sin, halves cut with <paramref name="bounds"/> = [0, d/2, d].</summary>
    private static string Rope(OnnxWriter g, string x, string cos, string sin, (string Zero, string Half, string Full, string LastAxis) bounds)
    {
        string x1 = g.Node("Slice", [x, bounds.Zero, bounds.Half, bounds.LastAxis]);
        string x2 = g.Node("Slice", [x, bounds.Half, bounds.Full, bounds.LastAxis]);
        string rotated = g.Node("Concat", [g.Node("Neg", [x2]), x1], attributes: ("axis", -1));
        return g.Node("Add", [g.Node("Mul", [x, cos]), g.Node("Mul", [rotated, sin])]);
    }

    /// <summary>table[0:seq, :].</summary>
    private static string Rows(OnnxWriter g, string table, string seq) =>
        g.Node("Slice", [table, g.Initializer(g.Name("start"), [1], [0L]), seq, g.Initializer(g.Name("axis"), [1], [0L])]);

    private static float[] Read(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }

    private static float[] Duplicate(float[] half, int rows, int width)
    {
        var full = new float[(long)rows * 2 * width];
        for (int r = 0; r < rows; r++)
        {
            half.AsSpan(r * width, width).CopyTo(full.AsSpan(r * 2 * width));
            half.AsSpan(r * width, width).CopyTo(full.AsSpan(r * 2 * width + width));
        }
        return full;
    }

    private static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[(long)rows * cols];
        Parallel.For(0, rows, r =>
        {
            for (int col = 0; col < cols; col++) t[(long)col * rows + r] = m[(long)r * cols + col];
        });
        return t;
    }
}
