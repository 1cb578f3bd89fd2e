using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// A pointer and length over host memory of a CPU-accelerator buffer: what the SIMD code works on.
/// A plain struct (not a ref struct) so parallel loops can capture it.
/// </summary>
internal readonly unsafe struct HostSpan<T> where T : unmanaged
{
    private readonly T* _pointer;

    /// <summary>Elements.</summary>
    public readonly long Length;

    public HostSpan(ArrayView<T> view)
    {
        _pointer = view.Length == 0 ? null : (T*)view.LoadEffectiveAddressAsPtr();
        Length = view.Length;
    }

    private HostSpan(T* pointer, long length)
    {
        _pointer = pointer;
        Length = length;
    }

    /// <summary>A pinned managed array (allocated with <c>GC.AllocateArray(pinned: true)</c>).</summary>
    public static HostSpan<T> Pinned(T[] array) =>
        new((T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)), array.LongLength);

    /// <summary>The same memory as <typeparamref name="U"/> elements (e.g. fp32 as <see cref="F32"/>).</summary>
    public HostSpan<U> As<U>() where U : unmanaged => new((U*)_pointer, Length * sizeof(T) / sizeof(U));

    /// <summary>Element <paramref name="i"/>.</summary>
    public ref T this[long i] => ref _pointer[i];

    /// <summary>Elements [start, start + length).</summary>
    public Span<T> Slice(long start, int length) => new(_pointer + start, length);
}
