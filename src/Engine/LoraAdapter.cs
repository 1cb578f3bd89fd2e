using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;
using System.Text.Json;

namespace LeadEngine.Engine;

/// <summary>
/// LoRA adapters for a Qwen model, fp32 on the device: for each adapted layer and target
/// <c>A</c> is [r, in] and <c>B</c> is [out, r]; the projection becomes
/// <c>y = x·Wᵀ + b + (alpha/r)·(x·Aᵀ)·Bᵀ</c>. Tensor names follow PEFT. The tensors live in one
/// <see cref="ParameterSet"/> (with gradients) for training.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    /// <summary>All targets in PEFT order.</summary>
    public static readonly LoraTarget[] AllTargets = Enum.GetValues<LoraTarget>();

    private readonly ParameterEntry?[,] _a;
    private readonly ParameterEntry?[,] _b;

    /// <summary>LoRA rank r.</summary>
    public int Rank { get; }

    /// <summary>LoRA alpha; the update is scaled by alpha/r.</summary>
    public float Alpha { get; }

    /// <summary>alpha / rank.</summary>
    public float Scale => Alpha / Rank;

    /// <summary>The adapted targets.</summary>
    public IReadOnlyList<LoraTarget> Targets { get; }

    /// <summary>The device tensors and their gradients.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The device holding the adapter.</summary>
    public ComputeDevice Device => Parameters.Device;

    /// <summary>
    /// Declares the adapter final (for scoring, not training): inference forwards on the SIMD CPU
    /// backend then fold scale·B·A into their packed fp32 base weights once, as a merged export does,
    /// instead of running the two LoRA products on every call. See <see cref="ParameterSet.Freeze"/>.
    /// </summary>
    public void Freeze() => Parameters.Freeze();

    private LoraAdapter(ParameterSet parameters, int layers, int rank, float alpha)
    {
        Parameters = parameters;
        Rank = rank;
        Alpha = alpha;
        _a = new ParameterEntry?[layers, AllTargets.Length];
        _b = new ParameterEntry?[layers, AllTargets.Length];
        var targets = new SortedSet<LoraTarget>();
        for (int layer = 0; layer < layers; layer++)
        {
            foreach (var target in AllTargets)
            {
                _a[layer, (int)target] = parameters.Find(TensorName(layer, target, false));
                _b[layer, (int)target] = parameters.Find(TensorName(layer, target, true));
                if (_a[layer, (int)target] is not null) targets.Add(target);
            }
        }
        Targets = targets.ToList();
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

    /// <summary>The short PEFT target-module name, e.g. <c>q_proj</c>.</summary>
    public static string ShortName(LoraTarget target) => ModuleName(target).Split('.')[1];

    /// <summary>Parses a PEFT target-module name (<c>q_proj</c> ... <c>down_proj</c>).</summary>
    public static LoraTarget ParseTarget(string name)
    {
        foreach (var target in AllTargets)
            if (ShortName(target) == name) return target;
        throw new ArgumentException($"unknown LoRA target '{name}' (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
    }

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
    /// A fresh adapter as PEFT initialises one: A uniform in ±1/√in (Kaiming-uniform with a=√5), B zero,
    /// so the adapted model starts equal to the base model.
    /// </summary>
    public static LoraAdapter Create(QwenConfig config, ComputeDevice device, int rank, float alpha, IEnumerable<LoraTarget> targets, int seed)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), "LoRA rank must be positive");
        var rng = new Random(seed);
        var targetList = targets.Distinct().OrderBy(t => t).ToList();
        var tensors = new List<(string, long[], float[])>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            foreach (var target in targetList)
            {
                var (outF, inF) = ProjectionShape(config, target);
                float bound = 1f / MathF.Sqrt(inF);
                var a = new float[rank * inF];
                for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
                tensors.Add((TensorName(layer, target, false), [rank, inF], a));
                tensors.Add((TensorName(layer, target, true), [outF, rank], new float[outF * rank]));
            }
        }
        return new LoraAdapter(new ParameterSet(device, ParameterGroup.Lora, tensors), config.Layers, rank, alpha);
    }

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
        var loaded = new List<(string, long[], float[])>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            foreach (var target in AllTargets)
            {
                string aName = TensorName(layer, target, false), bName = TensorName(layer, target, true);
                bool hasA = tensors.Tensors.ContainsKey(aName), hasB = tensors.Tensors.ContainsKey(bName);
                if (!hasA && !hasB) continue;
                if (hasA != hasB) throw new SafeTensorsException(file, hasA ? bName : aName, "missing (its LoRA partner is present)");
                var (outF, inF) = ProjectionShape(config, target);
                tensors.Get(aName).ExpectShape(file, [rank, inF]);
                tensors.Get(bName).ExpectShape(file, [outF, rank]);
                loaded.Add((aName, [rank, inF], tensors.ReadFloat32(aName)));
                loaded.Add((bName, [outF, rank], tensors.ReadFloat32(bName)));
            }
        }
        return new LoraAdapter(new ParameterSet(device, ParameterGroup.Lora, loaded), config.Layers, rank, resolvedAlpha);
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

    /// <summary>True when (layer, target) is adapted.</summary>
    public bool IsAdapted(int layer, LoraTarget target) => _a[layer, (int)target] is not null;

    /// <summary>The device views of A and B for a layer's target, or empty views when not adapted.</summary>
    public (ArrayView<float> A, ArrayView<float> B) Views(int layer, LoraTarget target)
    {
        var a = _a[layer, (int)target];
        var b = _b[layer, (int)target];
        return a is null || b is null ? (ArrayView<float>.Empty, ArrayView<float>.Empty) : (Parameters.Value(a), Parameters.Value(b));
    }

    /// <summary>
    /// Adds this adapter's update for a layer's target, scale·B·A, into the host copy <paramref name="weight"/> of its
    /// [out, in] weight (nothing when not adapted): what an export that merges the adapter writes.
    /// </summary>
    public void MergeInto(float[] weight, int layer, LoraTarget target, QwenConfig config)
    {
        if (!IsAdapted(layer, target)) return;
        var (a, b) = Views(layer, target);
        var (outDim, inDim) = ProjectionShape(config, target);
        var hostA = new float[a.Length];
        var hostB = new float[b.Length];
        a.CopyToCPU(hostA);
        b.CopyToCPU(hostB);
        LoraMerge.IntoWeight(weight, hostA, hostB, outDim, inDim, Rank, Scale);
    }

    /// <summary>The gradient views of A and B for a layer's target (empty when not adapted).</summary>
    public (ArrayView<float> A, ArrayView<float> B) GradientViews(int layer, LoraTarget target)
    {
        var a = _a[layer, (int)target];
        var b = _b[layer, (int)target];
        return a is null || b is null ? (ArrayView<float>.Empty, ArrayView<float>.Empty) : (Parameters.Gradient(a), Parameters.Gradient(b));
    }

    /// <inheritdoc />
    public void Dispose() => Parameters.Dispose();
}
