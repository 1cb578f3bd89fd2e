using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Tests.Kernels;

namespace LeadEngine.Tests;

/// <summary>
/// The whole Qwen2 forward pass in plain C#, composed of the per-kernel references: the oracle
/// for shapes the golden fixtures do not cover. Returns final-norm hidden and full logits at each
/// sequence's last token.
/// </summary>
public static class ReferenceModel
{
    public static (float[][] Hidden, float[][] Logits) Forward(string modelDir, int[][] sequences)
    {
        var c = QwenConfig.Load(modelDir);
        using var store = SafeTensorStore.Open(modelDir);
        float[] W(string name) => store.ReadFloat32(name);
        int batch = sequences.Length, seqLen = sequences.Max(s => s.Length), rows = batch * seqLen;
        int h = c.HiddenSize, d = c.HeadDim, qOut = c.Heads * d, kvOut = c.KvHeads * d, inter = c.IntermediateSize;
        float eps = (float)c.RmsNormEps;
        var lengths = sequences.Select(s => s.Length).ToArray();
        var embed = W("model.embed_tokens.weight");
        var x = new float[rows * h];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seqLen; t++)
            {
                int id = t < lengths[b] ? sequences[b][t] : 0;
                Array.Copy(embed, id * h, x, (b * seqLen + t) * h, h);
            }
        for (int layer = 0; layer < c.Layers; layer++)
        {
            string p = $"model.layers.{layer}.";
            var xn = NormRopeKernelTests.RmsNormReference(x, W(p + "input_layernorm.weight"), rows, h, eps);
            var q = MatMulKernelTests.Reference(xn, W(p + "self_attn.q_proj.weight"), W(p + "self_attn.q_proj.bias"), null, null, 0, rows, qOut, h, 0);
            var k = MatMulKernelTests.Reference(xn, W(p + "self_attn.k_proj.weight"), W(p + "self_attn.k_proj.bias"), null, null, 0, rows, kvOut, h, 0);
            var v = MatMulKernelTests.Reference(xn, W(p + "self_attn.v_proj.weight"), W(p + "self_attn.v_proj.bias"), null, null, 0, rows, kvOut, h, 0);
            q = NormRopeKernelTests.RopeReference(q, rows, seqLen, c.Heads, d, c.RopeTheta);
            k = NormRopeKernelTests.RopeReference(k, rows, seqLen, c.KvHeads, d, c.RopeTheta);
            var attn = AttentionKernelTests.Reference(q, k, v, lengths, seqLen, c.Heads, c.KvHeads, d);
            var o = MatMulKernelTests.Reference(attn, W(p + "self_attn.o_proj.weight"), null, null, null, 0, rows, h, qOut, 0);
            for (int i = 0; i < x.Length; i++) x[i] += o[i];
            xn = NormRopeKernelTests.RmsNormReference(x, W(p + "post_attention_layernorm.weight"), rows, h, eps);
            var g = MatMulKernelTests.Reference(xn, W(p + "mlp.gate_proj.weight"), null, null, null, 0, rows, inter, h, 0);
            var u = MatMulKernelTests.Reference(xn, W(p + "mlp.up_proj.weight"), null, null, null, 0, rows, inter, h, 0);
            for (int i = 0; i < g.Length; i++) g[i] = (float)(g[i] / (1 + Math.Exp(-g[i])) * u[i]);
            var down = MatMulKernelTests.Reference(g, W(p + "mlp.down_proj.weight"), null, null, null, 0, rows, h, inter, 0);
            for (int i = 0; i < x.Length; i++) x[i] += down[i];
        }
        var final = NormRopeKernelTests.RmsNormReference(x, W("model.norm.weight"), rows, h, eps);
        var lm = W(c.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
        var last = new float[batch * h];
        for (int b = 0; b < batch; b++) final.AsSpan((b * seqLen + lengths[b] - 1) * h, h).CopyTo(last.AsSpan(b * h, h));
        var (logits, _) = HeadKernelTests.Reference(last, batch, h, lm, null, c.VocabSize, new float[2 * h], [0, 0]);
        var hidden = new float[batch][];
        var perSeq = new float[batch][];
        for (int b = 0; b < batch; b++)
        {
            hidden[b] = last.AsSpan(b * h, h).ToArray();
            perSeq[b] = logits.AsSpan(b * c.VocabSize, c.VocabSize).ToArray();
        }
        return (hidden, perSeq);
    }
}
