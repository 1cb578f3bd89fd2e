using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>The projections of a Qwen layer that LoRA can adapt.</summary>
public enum LoraTarget
{
    /// <summary>self_attn.q_proj</summary>
    Q,
    /// <summary>self_attn.k_proj</summary>
    K,
    /// <summary>self_attn.v_proj</summary>
    V,
    /// <summary>self_attn.o_proj</summary>
    O,
    /// <summary>mlp.gate_proj</summary>
    Gate,
    /// <summary>mlp.up_proj</summary>
    Up,
    /// <summary>mlp.down_proj</summary>
    Down,
}

/// <summary>
/// LoRA adapters for a Qwen model, in fp32 on the device: for each layer and target
/// <c>A</c> is [r, in] and <c>B</c> is [out, r]; the projection becomes
/// <c>y = x·Wᵀ + b + (alpha/r)·(x·Aᵀ)·Bᵀ</c>. Tensor names follow PEFT.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    /// <summary>All targets in PEFT order.</summary>
    public static readonly LoraTarget[] AllTargets = Enum.GetValues<LoraTarget>();

    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[,] _a;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[,] _b;

    /// <summary>LoRA rank r.</summary>
    public int Rank { get; }

    /// <summary>LoRA alpha; the update is scaled by alpha/r.</summary>
    public float Alpha { get; }

    /// <summary>alpha / rank.</summary>
    public float Scale => Alpha / Rank;

    /// <summary>The device holding the adapter.</summary>
    public ComputeDevice Device { get; }

    private LoraAdapter(ComputeDevice device, int layers, int rank, float alpha)
    {
        Device = device;
        Rank = rank;
        Alpha = alpha;
        _a = new MemoryBuffer1D<float, Stride1D.Dense>?[layers, AllTargets.Length];
        _b = new MemoryBuffer1D<float, Stride1D.Dense>?[layers, AllTargets.Length];
    }

    /// <summary>The PEFT module path of a target, e.g. <c>self_attn.q_proj</c>.</summary>
    public static string ModuleName(LoraTarget target) => target switch
    {
        LoraTarget.Q => "self_attn.q_proj",
        LoraTarget.K => "self_attn.k_proj",
        LoraTarget.V => "self_attn.v_proj",
        LoraTarget.O => "self_attn.o_proj",
        LoraTarget.Gate => "mlp.gate_proj",
        LoraTarget.Up => "mlp.up_proj",
        _ => "mlp.down_proj",
    };

    /// <summary>The PEFT tensor name of A (<paramref name="isB"/> false) or B of a layer's target.</summary>
    public static string TensorName(int layer, LoraTarget target, bool isB) =>
        $"base_model.model.model.layers.{layer}.{ModuleName(target)}.lora_{(isB ? "B" : "A")}.weight";

    /// <summary>(out, in) features of a target's base projection.</summary>
    public static (int Out, int In) ProjectionShape(QwenConfig c, LoraTarget target) => target switch
    {
        LoraTarget.Q => (c.Heads * c.HeadDim, c.HiddenSize),
        LoraTarget.K or LoraTarget.V => (c.KvHeads * c.HeadDim, c.HiddenSize),
        LoraTarget.O => (c.HiddenSize, c.Heads * c.HeadDim),
        LoraTarget.Gate or LoraTarget.Up => (c.IntermediateSize, c.HiddenSize),
        _ => (c.HiddenSize, c.IntermediateSize),
    };

    /// <summary>
    /// Loads the LoRA tensors of <paramref name="file"/> (a .safetensors file; alpha from an
    /// <c>adapter_config.json</c> beside it unless <paramref name="alpha"/> is given). Targets absent
    /// from the file stay un-adapted; shapes are checked against <paramref name="config"/>.
    /// </summary>
    /// <exception cref="SafeTensorsException">A tensor has the wrong shape, or A without B.</exception>
    public static LoraAdapter Load(string file, QwenConfig config, ComputeDevice device, float? alpha = null)
    {
        using var tensors = SafeTensorFile.Open(file);
        int rank = -1;
        foreach (var info in tensors.Tensors.Values.Where(t => t.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
        {
            if (info.Shape.Length != 2) throw new SafeTensorsException(file, info.Name, $"LoRA A must be 2-D [r, in], found {info.ShapeText}");
            if (rank < 0) rank = (int)info.Shape[0];
            else if (rank != info.Shape[0]) throw new SafeTensorsException(file, info.Name, $"rank {info.Shape[0]} differs from the rank {rank} of other adapters");
        }
        if (rank <= 0) throw new SafeTensorsException(file, null, "no LoRA tensors (*.lora_A.weight) found");
        float resolvedAlpha = alpha ?? ReadAlpha(file);
        var adapter = new LoraAdapter(device, config.Layers, rank, resolvedAlpha);
        try
        {
            for (int layer = 0; layer < config.Layers; layer++)
            {
                foreach (var target in AllTargets)
                {
                    string aName = TensorName(layer, target, false), bName = TensorName(layer, target, true);
                    bool hasA = tensors.Tensors.ContainsKey(aName), hasB = tensors.Tensors.ContainsKey(bName);
                    if (!hasA && !hasB) continue;
                    if (hasA != hasB) throw new SafeTensorsException(file, hasA ? bName : aName, "missing (its LoRA partner is present)");
                    var (outF, inF) = ProjectionShape(config, target);
                    Expect(file, tensors.Get(aName), [rank, inF]);
                    Expect(file, tensors.Get(bName), [outF, rank]);
                    adapter._a[layer, (int)target] = device.Accelerator.Allocate1D(tensors.ReadFloat32(aName));
                    adapter._b[layer, (int)target] = device.Accelerator.Allocate1D(tensors.ReadFloat32(bName));
                }
            }
            return adapter;
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }

    private static float ReadAlpha(string file)
    {
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "adapter_config.json");
        if (!File.Exists(configPath))
            throw new ModelConfigException($"{file}: LoRA alpha unknown: no adapter_config.json beside it and no alpha given");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        if (!doc.RootElement.TryGetProperty("lora_alpha", out var a) || a.ValueKind != JsonValueKind.Number)
            throw new ModelConfigException($"{configPath}: missing numeric 'lora_alpha'");
        return a.GetSingle();
    }

    internal static void Expect(string file, TensorInfo info, long[] shape)
    {
        if (!info.Shape.SequenceEqual(shape))
            throw new SafeTensorsException(file, info.Name, $"shape {info.ShapeText} but the model needs [{string.Join(", ", shape)}]");
    }

    /// <summary>The device views of A and B for a layer's target, or empty views when not adapted.</summary>
    public (ArrayView<float> A, ArrayView<float> B) Views(int layer, LoraTarget target)
    {
        var a = _a[layer, (int)target];
        var b = _b[layer, (int)target];
        return a is null || b is null ? (ArrayView<float>.Empty, ArrayView<float>.Empty) : (a.View, b.View);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var buffer in _a) buffer?.Dispose();
        foreach (var buffer in _b) buffer?.Dispose();
    }
}

/// <summary>
/// The pointwise (calibrated probability, BCE) and pairwise (ranking, HPRO) score heads, each a
/// linear map of the final hidden state: <c>score.pointwise.weight</c> [1, H] and bias [1],
/// <c>score.pairwise.weight</c> [1, H] and bias [1]. On the device as one [2, H] matrix.
/// </summary>
public sealed class ScoreHeads : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _weight;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _bias;

    /// <summary>The device holding the heads.</summary>
    public ComputeDevice Device { get; }

    /// <summary>Weights [2, H]: row 0 pointwise, row 1 pairwise.</summary>
    public ArrayView<float> Weight => _weight.View;

    /// <summary>Biases [2].</summary>
    public ArrayView<float> Bias => _bias.View;

    private ScoreHeads(ComputeDevice device, float[] weight, float[] bias)
    {
        Device = device;
        _weight = device.Accelerator.Allocate1D(weight);
        _bias = device.Accelerator.Allocate1D(bias);
    }

    /// <summary>Loads the heads from a .safetensors file, checking shapes against <paramref name="config"/>.</summary>
    public static ScoreHeads Load(string file, QwenConfig config, ComputeDevice device)
    {
        using var tensors = SafeTensorFile.Open(file);
        int h = config.HiddenSize;
        var weight = new float[2 * h];
        var bias = new float[2];
        int row = 0;
        foreach (var head in new[] { "pointwise", "pairwise" })
        {
            LoraAdapter.Expect(file, tensors.Get($"score.{head}.weight"), [1, h]);
            LoraAdapter.Expect(file, tensors.Get($"score.{head}.bias"), [1]);
            tensors.ReadFloat32($"score.{head}.weight").CopyTo(weight, row * h);
            bias[row] = tensors.ReadFloat32($"score.{head}.bias")[0];
            row++;
        }
        return new ScoreHeads(device, weight, bias);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _weight.Dispose();
        _bias.Dispose();
    }
}
