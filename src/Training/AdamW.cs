using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Training;

/// <summary>How the learning rate moves after warmup.</summary>
public enum DecayKind
{
    /// <summary>Half-cosine to zero at the last step.</summary>
    Cosine,
    /// <summary>Straight line to zero at the last step.</summary>
    Linear,
    /// <summary>No decay.</summary>
    Constant,
}

/// <summary>Linear warmup, then cosine, linear or no decay.</summary>
/// <param name="WarmupSteps">Steps of linear warmup from lr/warmup to lr.</param>
/// <param name="TotalSteps">Step at which decay reaches zero.</param>
/// <param name="Decay">Decay after warmup.</param>
public sealed record LearningRateSchedule(int WarmupSteps, int TotalSteps, DecayKind Decay = DecayKind.Cosine)
{
    /// <summary>The multiplier of the base rate at 1-based <paramref name="step"/>.</summary>
    public double Factor(int step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps) return (double)step / WarmupSteps;
        if (Decay == DecayKind.Constant || TotalSteps <= WarmupSteps) return 1.0;
        double progress = Math.Clamp((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps), 0, 1);
        return Decay == DecayKind.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * progress)) : 1 - progress;
    }
}

/// <summary>AdamW settings. LoRA tensors train at <see cref="LearningRate"/> / <see cref="LoraRateDivisor"/>.</summary>
public sealed record AdamWOptions
{
    /// <summary>Base learning rate (the heads' rate).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>LoRA rate = base / this (the method's differential rates; default 20).</summary>
    public double LoraRateDivisor { get; init; } = 20;
    /// <summary>β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>β2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Denominator epsilon.</summary>
    public double Eps { get; init; } = 1e-8;
    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm clip; 0 or less disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = new(0, 0, DecayKind.Constant);
}

/// <summary>What one optimizer step did.</summary>
/// <param name="Step">1-based step number.</param>
/// <param name="GradNorm">Global L2 norm of the (accumulation-averaged) gradient before clipping.</param>
/// <param name="HeadRate">Learning rate applied to the heads.</param>
/// <param name="LoraRate">Learning rate applied to LoRA.</param>
public sealed record OptimizerStep(int Step, double GradNorm, double HeadRate, double LoraRate);

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
