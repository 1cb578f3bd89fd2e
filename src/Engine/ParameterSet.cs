using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>
/// Trainable fp32 tensors packed into one flat device buffer, with a gradient buffer of the same
/// layout, so the optimizer and gradient-norm kernels touch every tensor of a group in one launch.
/// </summary>
public sealed class ParameterSet : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _values;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _gradients;
    private readonly Dictionary<string, ParameterEntry> _byName;

    /// <summary>The device holding the tensors.</summary>
    public ComputeDevice Device { get; }

    /// <summary>The learning-rate group.</summary>
    public ParameterGroup Group { get; }

    /// <summary>The tensors in layout order.</summary>
    public IReadOnlyList<ParameterEntry> Entries { get; }

    /// <summary>All values, flat.</summary>
    public ArrayView<float> Values => _values.View;

    /// <summary>All gradients, flat (same layout as <see cref="Values"/>).</summary>
    public ArrayView<float> Gradients => _gradients.View;

    /// <summary>Total elements.</summary>
    public long Count => _values.Length;

    private static long s_lastId;

    /// <summary>A process-wide id of this set, nonzero (what folded weight copies are kept under).</summary>
    public long Id { get; } = Interlocked.Increment(ref s_lastId);

    /// <summary>
    /// Whether <see cref="Freeze"/> was called: the values are final, and inference may fold them into
    /// other weights (the SIMD backend folds a frozen LoRA adapter into its packed base weights).
    /// </summary>
    public bool IsFrozen { get; private set; }

    /// <summary>
    /// Declares the values final. <see cref="WriteAllValues"/> and the optimizer refuse a frozen set;
    /// writes through <see cref="Values"/> after this are not seen by copies already folded.
    /// </summary>
    public void Freeze() => IsFrozen = true;

    /// <summary>Packs <paramref name="tensors"/> (name, shape, initial values) onto <paramref name="device"/>; gradients start at zero.</summary>
    public ParameterSet(ComputeDevice device, ParameterGroup group, IEnumerable<(string Name, long[] Shape, float[] Values)> tensors)
    {
        Device = device;
        Group = group;
        var entries = new List<ParameterEntry>();
        var flat = new List<float>();
        foreach (var (name, shape, values) in tensors)
        {
            var entry = new ParameterEntry(name, shape, flat.Count);
            if (values.Length != entry.Length) throw new ArgumentException($"tensor '{name}': {values.Length} values for shape [{string.Join(", ", shape)}]");
            entries.Add(entry);
            flat.AddRange(values);
        }
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _values = device.Accelerator.Allocate1D(flat.Count == 0 ? [0f] : flat.ToArray());
        _gradients = device.Accelerator.Allocate1D<float>(_values.Length);
        _gradients.MemSetToZero();
    }

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public ParameterEntry? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The device view of a tensor's values.</summary>
    public ArrayView<float> Value(ParameterEntry entry) => _values.View.SubView(entry.Offset, entry.Length);

    /// <summary>The device view of a tensor's gradient.</summary>
    public ArrayView<float> Gradient(ParameterEntry entry) => _gradients.View.SubView(entry.Offset, entry.Length);

    /// <summary>A tensor's values, copied to the host.</summary>
    public float[] ReadValue(ParameterEntry entry)
    {
        var result = new float[entry.Length];
        Value(entry).CopyToCPU(result);
        return result;
    }

    /// <summary>A tensor's gradient, copied to the host.</summary>
    public float[] ReadGradient(ParameterEntry entry)
    {
        var result = new float[entry.Length];
        Gradient(entry).CopyToCPU(result);
        return result;
    }

    /// <summary>All values, copied to the host (flat).</summary>
    public float[] ReadAllValues() => _values.GetAsArray1D();

    /// <summary>All gradients, copied to the host (flat).</summary>
    public float[] ReadAllGradients() => _gradients.GetAsArray1D();

    /// <summary>Overwrites all values from the host (flat, <see cref="Count"/> elements).</summary>
    public void WriteAllValues(float[] values)
    {
        if (IsFrozen) throw new InvalidOperationException("the parameters are frozen (Freeze was called): their values are final");
        if (values.Length != Count) throw new ArgumentException($"expected {Count} values, got {values.Length}");
        _values.View.CopyFromCPU(values);
    }

    /// <summary>Sets every gradient to zero (start of an accumulation window).</summary>
    public void ZeroGradients() => _gradients.MemSetToZero();

    /// <inheritdoc />
    public void Dispose()
    {
        if (IsFrozen) Device.ReleaseFoldedWeights(Id);
        _values.Dispose();
        _gradients.Dispose();
    }
}
