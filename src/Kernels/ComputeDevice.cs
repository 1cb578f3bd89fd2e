using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace LeadEngine.Kernels;

/// <summary>
/// One ILGPU context and accelerator with its compiled kernels. Kernels are compiled on first
/// use and cached for the device's lifetime (compilation costs tens of milliseconds each).
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context _context;
    private readonly ConcurrentDictionary<string, object> _kernels = new();

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The backend in use.</summary>
    public DeviceKind Kind { get; }

    /// <summary>Group shapes for this backend.</summary>
    public LaunchShapes Shapes { get; }

    /// <summary>True when the ops run on the SIMD CPU backend instead of ILGPU kernels.</summary>
    public bool UsesSimd => Kind == DeviceKind.Cpu;

    /// <summary>The backend the launchers call: one op set, one implementation per backend folder.</summary>
    internal IKernelBackend Backend { get; }

    /// <summary>Total milliseconds spent compiling kernels so far.</summary>
    public double CompileMilliseconds { get; private set; }

    /// <summary>
    /// True when the projections' forward pass and the attention forward run on the BF16 tensor-core kernels
    /// (<see cref="IlgpuTensorCoreKernels"/>: bf16 operands, f32 accumulation) instead of the f32 kernels. Off by
    /// default until a GPU run has checked them (<c>LEADENGINE_TENSOR_CORES=1</c> or <see cref="Open"/>); on ILGPU's CPU
    /// accelerator the tensor-core instruction is emulated, for tests.
    /// </summary>
    public bool TensorCores { get; }

    /// <summary>
    /// The weights' number format in the projections of frozen weights (scoring): <see cref="Precision.F32"/> unless
    /// set. Training's trainable products stay fp32. Used by the SIMD CPU backend; the ILGPU backends compute in fp32
    /// (or on tensor cores, <see cref="TensorCores"/>).
    /// </summary>
    public Precision Precision { get; set; }

    /// <summary>
    /// For a device that only scores with one model in one precision: once the SIMD CPU backend has packed a frozen
    /// weight, it hands the stored copy's memory back to the system and keeps only the packed copy (measured at the
    /// Qwen2.5-0.5B shape: see the README). The stored buffer keeps its address, which keys the packed copy. Packing a
    /// released weight again (another precision, another folded adapter, training's backward) throws instead of
    /// reading memory that no longer holds the weight, and the released addresses are remembered for the device's life,
    /// so load one model per such device. Off by default; <see cref="Open"/>'s callers that only score set it.
    /// </summary>
    public bool ScoringOnly { get; set; }

    /// <summary>Parses <c>f32|bf16|int8</c>.</summary>
    public static Precision ParsePrecision(string text) => text.ToLowerInvariant() switch
    {
        "f32" => Precision.F32,
        "bf16" => Precision.Bf16,
        "int8" => Precision.Int8,
        _ => throw new ArgumentException($"unknown precision '{text}' (expected f32, bf16 or int8)"),
    };

    private ComputeDevice(Context context, Accelerator accelerator, DeviceKind kind, LaunchShapes? shapes, bool tensorCores = false)
    {
        _context = context;
        Accelerator = accelerator;
        Kind = kind;
        TensorCores = tensorCores;
        Shapes = shapes ?? (kind is DeviceKind.Cpu or DeviceKind.IlgpuCpu ? LaunchShapes.Cpu : LaunchShapes.Gpu);
        Backend = kind == DeviceKind.Cpu ? new SimdBackend(this) : new IlgpuBackend(this);
    }

    /// <summary>The ILGPU context every device and the PTX check (<see cref="IlgpuPtx"/>) compile kernels in: one setting of code generation.</summary>
    internal static Context CreateContext() => Context.Create(builder => builder
        .Default()
        .EnableAlgorithms()
        .Optimize(OptimizationLevel.O2)
        .Math(MathMode.Default));

    /// <summary>Opens a device. <see cref="DeviceKind.Auto"/> prefers CUDA, then OpenCL, then the SIMD CPU backend.</summary>
    /// <param name="kind">The backend to use.</param>
    /// <param name="shapes">Group shapes; the backend's default when null.</param>
    /// <param name="tensorCores">
    /// <see cref="TensorCores"/> on CUDA, or with the instruction emulated on <see cref="DeviceKind.IlgpuCpu"/>; when null,
    /// on CUDA if <c>LEADENGINE_TENSOR_CORES=1</c>.
    /// </param>
    /// <param name="precision">The weights' format in scoring's projections (<see cref="Precision"/>).</param>
    /// <exception cref="InvalidOperationException">The requested backend has no usable device.</exception>
    public static ComputeDevice Open(DeviceKind kind = DeviceKind.Auto, LaunchShapes? shapes = null, bool? tensorCores = null, Precision precision = Precision.F32)
    {
        var device = OpenBackend(kind, shapes, tensorCores);
        device.Precision = precision;
        return device;
    }

    private static ComputeDevice OpenBackend(DeviceKind kind, LaunchShapes? shapes, bool? tensorCores)
    {
        var context = CreateContext();
        try
        {
            if (kind is DeviceKind.Auto or DeviceKind.Cuda)
            {
                var cuda = context.GetCudaDevices();
                if (cuda.Count > 0)
                    return new ComputeDevice(context, cuda[0].CreateAccelerator(context), DeviceKind.Cuda, shapes,
                        tensorCores ?? Environment.GetEnvironmentVariable("LEADENGINE_TENSOR_CORES") == "1");
                if (kind == DeviceKind.Cuda)
                    throw new InvalidOperationException("--device cuda: no CUDA device found (is the NVIDIA driver installed?).");
            }
            if (kind is DeviceKind.Auto or DeviceKind.OpenCL)
            {
                // ILGPU's OpenCL backend needs the generic address space (OpenCL 2.0); PoCL 3.1 lacks it.
                foreach (CLDevice cl in context.GetCLDevices())
                {
                    if (cl.Capabilities.GenericAddressSpace)
                        return new ComputeDevice(context, cl.CreateAccelerator(context), DeviceKind.OpenCL, shapes);
                }
                if (kind == DeviceKind.OpenCL)
                    throw new InvalidOperationException("--device opencl: no OpenCL device with generic address space support found.");
            }
            if (kind == DeviceKind.IlgpuCpu && tensorCores == true)
            {
                // The tensor-core kernels' groups are 128 threads (four warps); the default CPU device allows 16.
                var wide = new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: IlgpuTensorCoreKernels.MatMulGroup / 4, numMultiprocessors: 1);
                return new ComputeDevice(context, wide.CreateAccelerator(context), DeviceKind.IlgpuCpu, shapes, tensorCores: true);
            }
            var cpu = context.GetCPUDevices()[0];
            return new ComputeDevice(context, cpu.CreateAccelerator(context), kind == DeviceKind.IlgpuCpu ? DeviceKind.IlgpuCpu : DeviceKind.Cpu, shapes);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Parses <c>auto|cpu|ilgpu-cpu|cuda|opencl</c>.</summary>
    public static DeviceKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "ilgpu-cpu" => DeviceKind.IlgpuCpu,
        "cuda" => DeviceKind.Cuda,
        "opencl" => DeviceKind.OpenCL,
        _ => throw new ArgumentException($"unknown device '{text}' (expected auto, cpu, ilgpu-cpu, cuda or opencl)"),
    };

    /// <summary>Returns the cached kernel for <paramref name="key"/>, compiling it on first use.</summary>
    public T GetKernel<T>(string key, Func<Accelerator, T> load) where T : class
    {
        if (_kernels.TryGetValue(key, out var cached)) return (T)cached;
        lock (_kernels)
        {
            if (_kernels.TryGetValue(key, out cached)) return (T)cached;
            var watch = Stopwatch.StartNew();
            var kernel = load(Accelerator);
            CompileMilliseconds += watch.Elapsed.TotalMilliseconds;
            _kernels[key] = kernel;
            return kernel;
        }
    }

    /// <summary>When set, launchers time every launch into it (see <see cref="KernelProfiler"/>).</summary>
    public KernelProfiler? Profiler { get; set; }

    /// <summary>
    /// Starts timing one launch or host phase named <paramref name="name"/> doing <paramref name="flops"/>
    /// operations over <paramref name="bytes"/> bytes; dispose the result when it has been queued.
    /// Free when no <see cref="Profiler"/> is attached.
    /// </summary>
    public KernelTimer Time(string name, double flops = 0, double bytes = 0) =>
        Profiler is null ? default : new KernelTimer(this, name, flops, bytes);

    /// <summary>Drops every packed weight copy (call when freeing frozen weights).</summary>
    public void ReleasePackedWeights() => Backend.ReleasePackedWeights(null);

    /// <summary>Drops the packed copies with the frozen adapter <paramref name="foldId"/> folded in (call when freeing the adapter).</summary>
    public void ReleaseFoldedWeights(long foldId) => Backend.ReleasePackedWeights(foldId);

    private readonly object _poolLock = new();
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _idleBuffers = new();
    private long _idleFloats, _rentedFloats, _peakRentedFloats;
    private bool _disposed;

    /// <summary>
    /// An fp32 buffer of <paramref name="length"/> elements (at least one), contents undefined, from the
    /// device's pool: disposing it returns it for the next rental of the same length. Forward and training
    /// passes rent the same shapes call after call, and fresh buffers cost: a 2,000-token 0.5B training
    /// step faulted in ~4 GB of new pages each time (host memory over 32 MB comes straight from mmap).
    /// Idle buffers are kept up to the largest amount ever rented at once; a rental of a new length frees
    /// idle ones beyond that.
    /// </summary>
    public PooledBuffer Rent(long length)
    {
        length = Math.Max(1, length);
        lock (_poolLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _rentedFloats += length;
            _peakRentedFloats = Math.Max(_peakRentedFloats, _rentedFloats);
            if (_idleBuffers.TryGetValue(length, out var same) && same.TryPop(out var reused))
            {
                _idleFloats -= length;
                return new PooledBuffer(this, reused);
            }
            foreach (var (idleLength, idle) in _idleBuffers)
                while (_idleFloats + _rentedFloats > _peakRentedFloats && idle.TryPop(out var stale))
                {
                    stale.Dispose();
                    _idleFloats -= idleLength;
                }
        }
        return new PooledBuffer(this, Accelerator.Allocate1D<float>(length));
    }

    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        lock (_poolLock)
        {
            _rentedFloats -= buffer.Length;
            if (_disposed)
            {
                buffer.Dispose();
                return;
            }
            if (!_idleBuffers.TryGetValue(buffer.Length, out var idle)) _idleBuffers[buffer.Length] = idle = new();
            idle.Push(buffer);
            _idleFloats += buffer.Length;
        }
    }

    /// <summary>Floats held by idle pooled buffers.</summary>
    internal long IdleFloats
    {
        get
        {
            lock (_poolLock) return _idleFloats;
        }
    }

    /// <summary>Frees the pool's idle buffers (say, after training, before a long scoring phase).</summary>
    public void ReleasePooledBuffers()
    {
        lock (_poolLock)
        {
            foreach (var idle in _idleBuffers.Values)
                while (idle.TryPop(out var buffer)) buffer.Dispose();
            _idleBuffers.Clear();
            _idleFloats = 0;
            _peakRentedFloats = _rentedFloats;
        }
    }

    /// <summary>Waits for all queued kernels.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_poolLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        ReleasePooledBuffers();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
