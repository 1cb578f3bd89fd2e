using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Kernels;

namespace LeadEngine.Bench;

/// <summary>Device and shapes shared by the kernel benchmarks. CUDA runs Qwen2.5 shapes; the CPU accelerator small ones.</summary>
public abstract class KernelBenchmark
{
    /// <summary>The device every benchmark uses (LEADENGINE_DEVICE=cpu|cuda|opencl|auto).</summary>
    public static ComputeDevice Device { get; } = ComputeDevice.Open(ComputeDevice.ParseKind(Environment.GetEnvironmentVariable("LEADENGINE_DEVICE") ?? "auto"));

    /// <summary>True except on the ILGPU CPU accelerator (a debugging backend): benchmark real Qwen shapes.</summary>
    protected static bool Large => Device.Kind != DeviceKind.IlgpuCpu;

    /// <summary>LEADENGINE_BENCH_SHORT=1 (<c>bench/gpu-run.sh --short</c>): only the first shapes, so a GPU run fits one device call.</summary>
    protected static IEnumerable<T> Chosen<T>(T[] shapes, int shortCount) =>
        Environment.GetEnvironmentVariable("LEADENGINE_BENCH_SHORT") == "1" ? shapes.Take(shortCount) : shapes;

    /// <summary>Buffer of <paramref name="n"/> seeded random floats.</summary>
    protected static MemoryBuffer1D<float, Stride1D.Dense> RandomBuffer(long n, int seed)
    {
        var rng = new Random(seed);
        var values = new float[n];
        for (long i = 0; i < n; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return Device.Accelerator.Allocate1D(values);
    }

    /// <summary>Buffer of <paramref name="n"/> seeded random bf16 weights.</summary>
    protected static MemoryBuffer1D<Bf16, Stride1D.Dense> RandomBf16(long n, int seed)
    {
        var rng = new Random(seed);
        var values = new Bf16[n];
        for (long i = 0; i < n; i++) values[i] = Bf16.FromFloat((float)(rng.NextDouble() * 2 - 1) * 0.05f);
        return Device.Accelerator.Allocate1D(values);
    }
}

/// <summary>Projection matmul with bf16 weights: y[M,N] = x[M,K]·Wᵀ (+ LoRA r=8).</summary>
public class MatMulBenchmark : KernelBenchmark
{
    private MemoryBuffer1D<float, Stride1D.Dense> _x = null!, _y = null!, _a = null!, _u = null!;
    private MemoryBuffer1D<Bf16, Stride1D.Dense> _w = null!;

    /// <summary>
    /// (M tokens, N out, K in, r): Qwen2.5-0.5B q/o (896²) and MLP (4864×896) at 512 tokens on GPU; the last, its down
    /// projection at 2,000 × 8 tokens, where the reduced products once ran at 60% of their speed for want of row blocks.
    /// </summary>
    public static IEnumerable<KernelShape> Shapes() => Chosen(Large
        ? new[] { (512, 896, 896, 0), (512, 4864, 896, 0), (2048, 8960, 1536, 0), (512, 896, 4864, 0), (2048, 1536, 1536, 8), (16000, 896, 4864, 0) }
        : new[] { (48, 64, 64, 0), (48, 176, 64, 4), (96, 128, 96, 0) }, 3)
        .Select(s => new KernelShape($"{s.Item1}x{s.Item2}x{s.Item3} r{s.Item4}", [s.Item1, s.Item2, s.Item3, s.Item4],
            2.0 * s.Item1 * (s.Item2 + s.Item4) * s.Item3,
            2.0 * s.Item2 * s.Item3 + 4.0 * s.Item1 * (s.Item3 + s.Item2)));

    /// <summary>The shape under test.</summary>
    [ParamsSource(nameof(Shapes))]
    public KernelShape Shape { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        int m = Shape.Dims[0], n = Shape.Dims[1], k = Shape.Dims[2], r = Shape.Dims[3];
        _x = RandomBuffer((long)m * k, 1);
        _w = RandomBf16((long)n * k, 2);
        _a = RandomBuffer(Math.Max(1, r * k), 3);
        _u = Device.Accelerator.Allocate1D<float>(Math.Max(1, m * r));
        _y = Device.Accelerator.Allocate1D<float>((long)m * n);
        Run();
        Device.Synchronize();
    }

    [Benchmark]
    public void Run()
    {
        int r = Shape.Dims[3];
        MatMulKernels.LaunchForward<Bf16>(Device, _x.View, _w.View, ArrayView<Bf16>.Empty, r > 0 ? _a.View : ArrayView<float>.Empty,
            _y.View, r > 0 ? _u.View : ArrayView<float>.Empty, Shape.Dims[0], Shape.Dims[1], Shape.Dims[2], r);
        Device.Synchronize();
    }

    /// <summary>Scoring's projection in fp32: frozen weights, packed once (an adapter, r &gt; 0, runs beside them unfolded).</summary>
    [Benchmark]
    public void FrozenF32() => Frozen(Precision.F32);

    /// <summary>Scoring's projection in bf16 (<see cref="Precision.Bf16"/>: bf16 panels, vdpbf16ps on the SIMD backend); r &gt; 0 runs as fp32.</summary>
    [Benchmark]
    public void FrozenBf16() => Frozen(Precision.Bf16);

    /// <summary>Scoring's projection in int8 (<see cref="Precision.Int8"/>: int8 panels, vpdpbusd on the SIMD backend); r &gt; 0 runs as fp32.</summary>
    [Benchmark]
    public void FrozenInt8() => Frozen(Precision.Int8);

    private void Frozen(Precision precision)
    {
        int r = Shape.Dims[3];
        Device.Precision = precision;
        MatMulKernels.LaunchForward<Bf16>(Device, _x.View, _w.View, ArrayView<Bf16>.Empty, r > 0 ? _a.View : ArrayView<float>.Empty,
            _y.View, r > 0 ? _u.View : ArrayView<float>.Empty, Shape.Dims[0], Shape.Dims[1], Shape.Dims[2], r, frozenWeights: true);
        Device.Synchronize();
        Device.Precision = Precision.F32;
    }

    /// <summary>Input gradient dx = dy·W (+ du·A): the same FLOPs as the forward.</summary>
    [Benchmark]
    public void BackwardInput()
    {
        int r = Shape.Dims[3];
        MatMulKernels.LaunchBackwardInput<Bf16>(Device, _y.View, r > 0 ? _u.View : ArrayView<float>.Empty, _w.View, r > 0 ? _a.View : ArrayView<float>.Empty,
            _x.View, Shape.Dims[0], Shape.Dims[1], Shape.Dims[2], r, accumulate: false);
        Device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Device.ReleasePackedWeights(); // keyed by the weights' address, which a later shape's buffer may reuse
        _x.Dispose(); _y.Dispose(); _a.Dispose(); _u.Dispose(); _w.Dispose();
    }
}

/// <summary>Causal GQA attention forward.</summary>
public class AttentionBenchmark : KernelBenchmark
{
    private MemoryBuffer1D<float, Stride1D.Dense> _q = null!, _k = null!, _v = null!, _o = null!, _lse = null!, _dq = null!, _dk = null!, _dv = null!, _dot = null!;
    private MemoryBuffer1D<int, Stride1D.Dense> _lengths = null!;

    /// <summary>(batch, T, heads, kv heads, head dim): Qwen2.5-0.5B and -1.5B heads on GPU.</summary>
    public static IEnumerable<KernelShape> Shapes() => Chosen(Large
        ? new[] { (8, 512, 14, 2, 64), (4, 2000, 12, 2, 128), (1, 2000, 14, 2, 64) }
        : new[] { (4, 12, 4, 2, 16), (2, 33, 3, 3, 16) }, 2)
        .Select(s =>
        {
            var (b, t, h, kv, d) = s;
            double pairs = b * h * (double)t * (t + 1) / 2;
            return new KernelShape($"B{b} T{t} H{h}/{kv} d{d}", [b, t, h, kv, d], 4.0 * pairs * d,
                4.0 * b * t * d * (2.0 * h + 2.0 * kv));
        });

    /// <summary>The shape under test.</summary>
    [ParamsSource(nameof(Shapes))]
    public KernelShape Shape { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        int b = Shape.Dims[0], t = Shape.Dims[1], h = Shape.Dims[2], kv = Shape.Dims[3], d = Shape.Dims[4];
        _q = RandomBuffer((long)b * t * h * d, 1);
        _k = RandomBuffer((long)b * t * kv * d, 2);
        _v = RandomBuffer((long)b * t * kv * d, 3);
        _o = Device.Accelerator.Allocate1D<float>((long)b * t * h * d);
        _lengths = Device.Accelerator.Allocate1D(Enumerable.Repeat(t, b).ToArray());
        _lse = Device.Accelerator.Allocate1D<float>((long)b * t * h);
        _dq = Device.Accelerator.Allocate1D<float>((long)b * t * h * d);
        _dk = Device.Accelerator.Allocate1D<float>((long)b * t * kv * d);
        _dv = Device.Accelerator.Allocate1D<float>((long)b * t * kv * d);
        _dot = Device.Accelerator.Allocate1D<float>((long)b * t * h);
        Run();
    }

    /// <summary>Backward (dq pass, then dk/dv pass); the GFLOP/s column counts forward FLOPs, backward does about 2.5×.</summary>
    [Benchmark]
    public void Backward()
    {
        AttentionKernels.LaunchBackward(Device, _q.View, _k.View, _v.View, _lengths.View, _o.View, _lse.View, _o.View, _dq.View, _dk.View, _dv.View, _dot.View,
            Shape.Dims[0], Shape.Dims[1], Shape.Dims[2], Shape.Dims[3], Shape.Dims[4]);
        Device.Synchronize();
    }

    [Benchmark]
    public void Run()
    {
        AttentionKernels.LaunchForward(Device, _q.View, _k.View, _v.View, _lengths.View, _o.View, _lse.View,
            Shape.Dims[0], Shape.Dims[1], Shape.Dims[2], Shape.Dims[3], Shape.Dims[4]);
        Device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _q.Dispose(); _k.Dispose(); _v.Dispose(); _o.Dispose(); _lengths.Dispose();
        _lse.Dispose(); _dq.Dispose(); _dk.Dispose(); _dv.Dispose(); _dot.Dispose();
    }
}

/// <summary>Memory-bound kernels: RMSNorm (bf16 weight) and SwiGLU over [rows, width].</summary>
public class NormAndActivationBenchmark : KernelBenchmark
{
    private MemoryBuffer1D<float, Stride1D.Dense> _x = null!, _u = null!, _y = null!;
    private MemoryBuffer1D<Bf16, Stride1D.Dense> _w = null!;

    /// <summary>(rows, width).</summary>
    public static IEnumerable<KernelShape> Shapes() => Chosen(Large ? new[] { (4096, 4864), (4096, 896) } : new[] { (48, 64), (48, 176) }, 1)
        .Select(s => new KernelShape($"{s.Item1}x{s.Item2}", [s.Item1, s.Item2], 4.0 * s.Item1 * s.Item2, 12.0 * s.Item1 * s.Item2));

    /// <summary>The shape under test.</summary>
    [ParamsSource(nameof(Shapes))]
    public KernelShape Shape { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        long n = (long)Shape.Dims[0] * Shape.Dims[1];
        _x = RandomBuffer(n, 1);
        _u = RandomBuffer(n, 2);
        _y = Device.Accelerator.Allocate1D<float>(n);
        _w = RandomBf16(Shape.Dims[1], 3);
        RmsNorm();
        SwiGlu();
    }

    [Benchmark]
    public void RmsNorm()
    {
        RmsNormKernels.LaunchForward<Bf16>(Device, _x.View, _w.View, _y.View, Shape.Dims[0], Shape.Dims[1], 1e-6f);
        Device.Synchronize();
    }

    [Benchmark]
    public void SwiGlu()
    {
        SwiGluKernels.LaunchForward(Device, _x.View, _u.View, _y.View, (long)Shape.Dims[0] * Shape.Dims[1]);
        Device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose(); _u.Dispose(); _y.Dispose(); _w.Dispose();
    }
}

/// <summary>The LM loss: softmax cross-entropy and its gradient, in place, over [rows, vocabulary] logits.</summary>
public class CrossEntropyBenchmark : KernelBenchmark
{
    private MemoryBuffer1D<float, Stride1D.Dense> _logits = null!, _losses = null!;
    private MemoryBuffer1D<int, Stride1D.Dense> _targets = null!;

    /// <summary>(rows, vocabulary): a training batch over Qwen's vocabulary, or the tiny reference's.</summary>
    public static IEnumerable<KernelShape> Shapes() => (Large ? new[] { (16, 151936) } : new[] { (4, 512) })
        .Select(s => new KernelShape($"{s.Item1}x{s.Item2}", [s.Item1, s.Item2], 6.0 * s.Item1 * s.Item2, 12.0 * s.Item1 * s.Item2));

    /// <summary>The shape under test.</summary>
    [ParamsSource(nameof(Shapes))]
    public KernelShape Shape { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        int rows = Shape.Dims[0];
        _logits = RandomBuffer((long)rows * Shape.Dims[1], 1);
        _losses = Device.Accelerator.Allocate1D<float>(rows);
        _targets = Device.Accelerator.Allocate1D(Enumerable.Range(0, rows).Select(r => r * 7 % Shape.Dims[1]).ToArray());
        CrossEntropy();
    }

    /// <summary>Each call overwrites the logits with their gradient, which the next call takes as logits: the same work.</summary>
    [Benchmark]
    public void CrossEntropy()
    {
        CrossEntropyKernels.LaunchForwardBackward(Device, _logits.View, _targets.View, _losses.View, Shape.Dims[0], Shape.Dims[1], 0.0125f);
        Device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _logits.Dispose(); _losses.Dispose(); _targets.Dispose();
    }
}
