using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// The SIMD CPU backend (this folder: one file per op): multi-threaded System.Numerics.Tensors code over the
/// host memory of ILGPU's CPU accelerator buffers, with blocked matrix products (<see cref="SimdGemm"/>).
/// It calls nothing of the op layer or of another backend: its helpers (<see cref="CoreTeam"/>, <see cref="HostSpan{T}"/>, <see cref="WeightRows"/>) live here.
/// </summary>
internal sealed partial class SimdBackend(ComputeDevice device) : IKernelBackend
{
    private readonly ComputeDevice _device = device;
    // Packed copies of frozen weights, each in its layout's and precision's format (PackedPanels, PackedReducedPanels).
    private readonly ConcurrentDictionary<(nint Address, long Length, bool Transposed, long FoldId, Precision Precision), object> _packedWeights = new();
    // Addresses of frozen weights whose stored copy was handed back once packed (ScoringOnly). Kept for the device's
    // life, even when the packed copies are dropped: a later pack of such a weight must throw, not read released pages.
    private readonly HashSet<nint> _releasedWeights = [];

    /// <summary>Host access to a buffer (the CPU accelerator's memory is on the host).</summary>
    private static HostSpan<T> Host<T>(ArrayView<T> view) where T : unmanaged => new(view);

    /// <summary>
    /// The packed fp32 copy of a frozen weight matrix in one of its two layouts (W for x·Wᵀ, or W for dy·W),
    /// made by <paramref name="pack"/> on first use and kept until <see cref="ReleasePackedWeights"/> (keyed
    /// by the view's address, so owners of the weights must release them when they free the buffers). A
    /// nonzero <paramref name="foldId"/> names a frozen LoRA adapter folded into this copy.
    /// </summary>
    private PackedPanels PackedWeights<T>(ArrayView<T> view, bool transposed, Func<PackedPanels> pack, long foldId = 0) where T : unmanaged =>
        Packed(view, transposed, foldId, Precision.F32, pack);

    /// <summary>The packed bf16 or int8 copy of a frozen weight matrix for x·Wᵀ (<see cref="ReducedGemm"/>), kept as <see cref="PackedWeights{T}"/> keeps the fp32 one.</summary>
    private PackedReducedPanels PackedReducedWeights<T>(ArrayView<T> view, Precision precision, Func<PackedReducedPanels> pack, long foldId) where T : unmanaged =>
        Packed(view, transposed: true, foldId, precision, pack);

    private TPacked Packed<T, TPacked>(ArrayView<T> view, bool transposed, long foldId, Precision precision, Func<TPacked> pack)
        where T : unmanaged where TPacked : class
    {
        var address = (nint)view.LoadEffectiveAddressAsPtr();
        var key = (address, view.Length, transposed, foldId, precision);
        if (_packedWeights.TryGetValue(key, out var packed)) return (TPacked)packed;
        // One pack at a time: a weight's stored copy may be handed back right after its pack (ScoringOnly), so no
        // second pack of it may be reading it then.
        lock (_releasedWeights)
        {
            if (_packedWeights.TryGetValue(key, out packed)) return (TPacked)packed;
            if (_releasedWeights.Contains(address))
                throw new InvalidOperationException("a frozen weight's stored copy was handed back once packed (ComputeDevice.ScoringOnly): " +
                    "it cannot be packed again for another precision, another folded adapter or training; load the model on a device without ScoringOnly");
            packed = pack();
            _packedWeights[key] = packed;
            if (_device.ScoringOnly && HostPages.Release(address, view.LengthInBytes)) _releasedWeights.Add(address);
            return (TPacked)packed;
        }
    }


    public bool FoldsFrozenAdapters => true;

    public void ReleasePackedWeights(long? foldId)
    {
        if (foldId is null)
        {
            _packedWeights.Clear();
            return;
        }
        foreach (var key in _packedWeights.Keys)
            if (key.FoldId == foldId) _packedWeights.TryRemove(key, out _);
    }
}
