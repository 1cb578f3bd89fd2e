using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;
using System.Runtime.InteropServices;

namespace LeadEngine.Engine;

/// <summary>One decoder layer's frozen weights on the device, in the stored dtype.</summary>
internal sealed class LayerWeights<TW> where TW : unmanaged, IWeight
{
    public required ArrayView<TW> InputNorm, PostNorm;
    public required ArrayView<TW> Q, QBias, K, KBias, V, VBias, O;
    public required ArrayView<TW> Gate, Up, Down;
}

/// <summary>
/// A Qwen2 checkpoint's weights uploaded to the device as stored (bf16, fp16 or fp32; a
/// checkpoint mixing dtypes is widened to fp32). Every tensor's presence and shape is checked
/// against the config before anything is uploaded.
/// </summary>
internal sealed class QwenWeights<TW> : IDisposable where TW : unmanaged, IWeight
{
    private readonly List<MemoryBuffer1D<TW, Stride1D.Dense>> _buffers = [];

    public ArrayView<TW> Embedding { get; private set; }
    public ArrayView<TW> LmHead { get; private set; }
    public ArrayView<TW> FinalNorm { get; private set; }
    public LayerWeights<TW>[] Layers { get; private set; } = [];
    public long DeviceBytes { get; private set; }

    /// <summary>Uploads every tensor of <see cref="RequiredTensors"/> (checked for shape on the way) and names them.</summary>
    public static QwenWeights<TW> Load(SafeTensorStore store, QwenConfig c, TensorDType storedAs, ComputeDevice device)
    {
        var w = new QwenWeights<TW>();
        try
        {
            var views = RequiredTensors(c).ToDictionary(t => t.Name, t => w.Upload(store, t.Name, t.Shape, storedAs, device));
            w.Embedding = views["model.embed_tokens.weight"];
            w.LmHead = c.TieWordEmbeddings ? w.Embedding : views["lm_head.weight"];
            w.FinalNorm = views["model.norm.weight"];
            w.Layers = new LayerWeights<TW>[c.Layers];
            for (int i = 0; i < c.Layers; i++)
            {
                string p = $"model.layers.{i}.";
                w.Layers[i] = new LayerWeights<TW>
                {
                    InputNorm = views[p + "input_layernorm.weight"],
                    PostNorm = views[p + "post_attention_layernorm.weight"],
                    Q = views[p + "self_attn.q_proj.weight"],
                    QBias = views[p + "self_attn.q_proj.bias"],
                    K = views[p + "self_attn.k_proj.weight"],
                    KBias = views[p + "self_attn.k_proj.bias"],
                    V = views[p + "self_attn.v_proj.weight"],
                    VBias = views[p + "self_attn.v_proj.bias"],
                    O = views[p + "self_attn.o_proj.weight"],
                    Gate = views[p + "mlp.gate_proj.weight"],
                    Up = views[p + "mlp.up_proj.weight"],
                    Down = views[p + "mlp.down_proj.weight"],
                };
            }
            return w;
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    /// <summary>The one table of the tensors a Qwen2 model of <paramref name="c"/> needs, with their shapes: what
    /// <see cref="Load"/> uploads and <see cref="QwenModel.CheckTensors"/> checks.</summary>
    public static IEnumerable<(string Name, long[] Shape)> RequiredTensors(QwenConfig c)
    {
        int qOut = c.Heads * c.HeadDim, kvOut = c.KvHeads * c.HeadDim;
        yield return ("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize]);
        if (!c.TieWordEmbeddings) yield return ("lm_head.weight", [c.VocabSize, c.HiddenSize]);
        yield return ("model.norm.weight", [c.HiddenSize]);
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", [c.HiddenSize]);
            yield return (p + "post_attention_layernorm.weight", [c.HiddenSize]);
            yield return (p + "self_attn.q_proj.weight", [qOut, c.HiddenSize]);
            yield return (p + "self_attn.q_proj.bias", [qOut]);
            yield return (p + "self_attn.k_proj.weight", [kvOut, c.HiddenSize]);
            yield return (p + "self_attn.k_proj.bias", [kvOut]);
            yield return (p + "self_attn.v_proj.weight", [kvOut, c.HiddenSize]);
            yield return (p + "self_attn.v_proj.bias", [kvOut]);
            yield return (p + "self_attn.o_proj.weight", [c.HiddenSize, qOut]);
            yield return (p + "mlp.gate_proj.weight", [c.IntermediateSize, c.HiddenSize]);
            yield return (p + "mlp.up_proj.weight", [c.IntermediateSize, c.HiddenSize]);
            yield return (p + "mlp.down_proj.weight", [c.HiddenSize, c.IntermediateSize]);
        }
    }

    private ArrayView<TW> Upload(SafeTensorStore store, string name, long[] shape, TensorDType storedAs, ComputeDevice device)
    {
        var (file, info) = store.Get(name);
        info.ExpectShape(file.Path, shape);
        var bytes = file.GetBytes(info);
        var buffer = device.Accelerator.Allocate1D<TW>(info.ElementCount);
        _buffers.Add(buffer);
        if (info.DType == storedAs)
        {
            buffer.View.AsContiguous().CopyFromCPU(MemoryMarshal.Cast<byte, TW>(bytes));
        }
        else
        {
            // Mixed-dtype checkpoint: storedAs is F32 (see QwenModel), so widen this tensor.
            var widened = new float[info.ElementCount];
            TensorDTypes.ToFloat32(info.DType, bytes, widened);
            buffer.View.AsContiguous().CopyFromCPU(MemoryMarshal.Cast<float, TW>(widened));
        }
        file.DropResidentPages(info);
        DeviceBytes += info.ElementCount * Marshal.SizeOf<TW>();
        return buffer.View;
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
