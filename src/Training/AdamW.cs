using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Training;

/// <summary>
/// AdamW over parameter groups on the device (decoupled weight decay; heads at the base rate, LoRA
/// at base/20), with global-norm clipping, a warmup + decay schedule and gradient accumulation.
/// Moments live beside the parameters; <see cref="Save"/>/<see cref="Load"/> resume exactly.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<(ParameterSet Set, MemoryBuffer1D<float, Stride1D.Dense> M, MemoryBuffer1D<float, Stride1D.Dense> V)> _groups = [];
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _normScratch;
    private readonly ComputeDevice _device;

    /// <summary>Settings.</summary>
    public AdamWOptions Options { get; }

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>Creates the optimizer over <paramref name="sets"/> (all on one device), moments zero.</summary>
    public AdamW(AdamWOptions options, params ParameterSet[] sets)
    {
        if (sets.Length == 0) throw new ArgumentException("no parameters to optimize");
        Options = options;
        _device = sets[0].Device;
        foreach (var set in sets)
        {
            if (set.Device != _device) throw new ArgumentException("all parameter sets must live on one device");
            if (set.IsFrozen) throw new ArgumentException("a frozen parameter set (Freeze was called) cannot be trained");
            var m = _device.Accelerator.Allocate1D<float>(set.Count);
            var v = _device.Accelerator.Allocate1D<float>(set.Count);
            m.MemSetToZero();
            v.MemSetToZero();
            _groups.Add((set, m, v));
        }
        _normScratch = _device.Accelerator.Allocate1D<float>(1);
    }

    /// <summary>Global L2 norm of all gradients.</summary>
    public double GradientNorm()
    {
        _normScratch.MemSetToZero();
        foreach (var (set, _, _) in _groups) OptimizerKernels.LaunchSumOfSquares(_device, set.Gradients, _normScratch.View);
        _device.Synchronize();
        return Math.Sqrt(_normScratch.GetAsArray1D()[0]);
    }

    /// <summary>
    /// Applies one update from the gradients accumulated over <paramref name="accumulated"/>
    /// micro-batches (averaged), then zeroes the gradients.
    /// </summary>
    public OptimizerStep Step(int accumulated = 1)
    {
        if (accumulated < 1) throw new ArgumentOutOfRangeException(nameof(accumulated));
        double norm = GradientNorm() / accumulated;
        double clip = Options.MaxGradNorm > 0 && norm > Options.MaxGradNorm ? Options.MaxGradNorm / (norm + 1e-6) : 1.0;
        StepCount++;
        double factor = Options.Schedule.Factor(StepCount);
        double headRate = Options.LearningRate * factor, loraRate = headRate / Options.LoraRateDivisor;
        foreach (var (set, m, v) in _groups)
        {
            var args = new AdamWArgs
            {
                LearningRate = (float)(set.Group == ParameterGroup.Lora ? loraRate : headRate),
                Beta1 = (float)Options.Beta1,
                Beta2 = (float)Options.Beta2,
                Eps = (float)Options.Eps,
                WeightDecay = (float)Options.WeightDecay,
                BiasCorrection1 = (float)(1 - Math.Pow(Options.Beta1, StepCount)),
                BiasCorrection2Sqrt = (float)Math.Sqrt(1 - Math.Pow(Options.Beta2, StepCount)),
                GradientScale = (float)(clip / accumulated),
            };
            OptimizerKernels.LaunchAdamW(_device, set.Values, set.Gradients, m.View, v.View, args);
            set.ZeroGradients();
        }
        _device.Synchronize();
        return new OptimizerStep(StepCount, norm, headRate, loraRate);
    }

    /// <summary>Writes moments and the step count to <paramref name="path"/> (safetensors).</summary>
    public void Save(string path)
    {
        var tensors = new List<TensorData>();
        for (int g = 0; g < _groups.Count; g++)
        {
            tensors.Add(TensorData.FromFloats($"group{g}.{_groups[g].Set.Group}.exp_avg", [_groups[g].Set.Count], _groups[g].M.GetAsArray1D()));
            tensors.Add(TensorData.FromFloats($"group{g}.{_groups[g].Set.Group}.exp_avg_sq", [_groups[g].Set.Count], _groups[g].V.GetAsArray1D()));
        }
        SafeTensorWriter.Write(path, tensors, new Dictionary<string, string> { ["step"] = StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Restores moments and the step count written by <see cref="Save"/>; shapes must match.</summary>
    public void Load(string path)
    {
        using var file = SafeTensorFile.Open(path);
        if (!file.Metadata.TryGetValue("step", out var step) || !int.TryParse(step, out int steps))
            throw new SafeTensorsException(path, null, "missing 'step' metadata");
        for (int g = 0; g < _groups.Count; g++)
        {
            foreach (var (suffix, buffer) in new[] { ("exp_avg", _groups[g].M), ("exp_avg_sq", _groups[g].V) })
            {
                string name = $"group{g}.{_groups[g].Set.Group}.{suffix}";
                var values = file.ReadFloat32(name);
                if (values.Length != buffer.Length) throw new SafeTensorsException(path, name, $"{values.Length} values but the parameters have {buffer.Length}");
                buffer.View.CopyFromCPU(values);
            }
        }
        StepCount = steps;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, m, v) in _groups)
        {
            m.Dispose();
            v.Dispose();
        }
        _normScratch.Dispose();
    }
}
