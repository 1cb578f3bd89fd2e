using System.Runtime.Intrinsics;

namespace LeadEngine.Kernels;

/// <summary>
/// One vector width's float operations, so that a SIMD kernel is written once and runs on 512-bit vectors where the
/// CPU has them (<see cref="Lanes512"/>) and on 256-bit ones elsewhere (<see cref="Lanes256"/>): the matrix product's
/// register tile, exp, softmax and SwiGLU. Arithmetic is here too: .NET's reference assemblies do not declare the
/// vector types' generic-math operator interfaces, so generic code cannot use their operators.
/// </summary>
internal unsafe interface ILanes<V> where V : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }
    static abstract V Zero { get; }
    static abstract V Load(float* source);
    static abstract void Store(V value, float* target);
    static abstract V Broadcast(float value);
    static abstract V Add(V x, V y);
    static abstract V Subtract(V x, V y);
    static abstract V Multiply(V x, V y);
    static abstract V Divide(V x, V y);
    static abstract V FusedMultiplyAdd(V x, V y, V addend);
    static abstract V Min(V x, V y);
    static abstract V Max(V x, V y);
    static abstract float Sum(V x);
    /// <summary>2^n per lane, for lanes that hold n + 1.5·2^23 (n in the low mantissa bits): exp's scaling.</summary>
    static abstract V PowerOfTwo(V shifted);
}

internal readonly unsafe struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    public static Vector256<float> Load(float* source) => Vector256.Load(source);
    public static void Store(Vector256<float> value, float* target) => value.Store(target);
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;
    public static Vector256<float> Subtract(Vector256<float> x, Vector256<float> y) => x - y;
    public static Vector256<float> Multiply(Vector256<float> x, Vector256<float> y) => x * y;
    public static Vector256<float> Divide(Vector256<float> x, Vector256<float> y) => x / y;
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) => Vector256.FusedMultiplyAdd(x, y, addend);
    public static Vector256<float> Min(Vector256<float> x, Vector256<float> y) => Vector256.Min(x, y);
    public static Vector256<float> Max(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);
    public static float Sum(Vector256<float> x) => Vector256.Sum(x);
    public static Vector256<float> PowerOfTwo(Vector256<float> shifted) => ((shifted.AsInt32() + Vector256.Create(127 - 0x4B400000)) << 23).AsSingle();
}

internal readonly unsafe struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    public static Vector512<float> Load(float* source) => Vector512.Load(source);
    public static void Store(Vector512<float> value, float* target) => value.Store(target);
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;
    public static Vector512<float> Subtract(Vector512<float> x, Vector512<float> y) => x - y;
    public static Vector512<float> Multiply(Vector512<float> x, Vector512<float> y) => x * y;
    public static Vector512<float> Divide(Vector512<float> x, Vector512<float> y) => x / y;
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) => Vector512.FusedMultiplyAdd(x, y, addend);
    public static Vector512<float> Min(Vector512<float> x, Vector512<float> y) => Vector512.Min(x, y);
    public static Vector512<float> Max(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    public static float Sum(Vector512<float> x) => Vector512.Sum(x);
    public static Vector512<float> PowerOfTwo(Vector512<float> shifted) => ((shifted.AsInt32() + Vector512.Create(127 - 0x4B400000)) << 23).AsSingle();
}
