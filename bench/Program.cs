using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LeadEngine.Bench;
using LeadEngine.Kernels;

// Kernel benchmarks: `dotnet run -c Release --project bench -- --filter '*'` (LEADENGINE_DEVICE=cuda|cpu).
// End-to-end scoring against ONNX Runtime: `dotnet run -c Release --project bench -- e2e [--model ...]`.
// In-process so one compiled-kernel cache serves every iteration and a self-contained publish runs
// on a machine without the .NET SDK.
// PTX of every CUDA kernel, generated without a GPU, for scripts/ptx-check.sh: `dotnet run -c Release --project bench -- ptx --out DIR`.
if (args.Length > 0 && args[0] == "e2e") return EndToEndBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "ptx") return PtxExport.Run(args[1..]);
var device = KernelBenchmark.Device;
string peaks;
if (device.Kind == DeviceKind.Cuda)
{
    // The fp32 kernels run on CUDA cores: their peak is the FP32 figure, not the tensor cores' 989 TFLOP/s (dense BF16).
    ThroughputColumn.PeakFlops = 67e12;
    ThroughputColumn.PeakBytes = 4.8e12;
    peaks = "H200 FP32 67 TFLOP/s (dense BF16 tensor cores 989), HBM3e 4.8 TB/s";
}
else if (device.UsesSimd)
{
    // The fp32 FMA's: the reduced-precision benchmarks (FrozenBf16, FrozenInt8) read against it as their speed-up.
    ThroughputColumn.PeakFlops = 1e9 * (InstructionPeak.Measure(InstructionMix.F32Fma, Environment.ProcessorCount) ?? double.NaN);
    ThroughputColumn.PeakBytes = CpuPeak.Bytes();
    peaks = $"measured on this CPU: FP32 FMA {ThroughputColumn.PeakFlops / 1e9:F0} GFLOP/s, copy {ThroughputColumn.PeakBytes / 1e9:F1} GB/s ({Environment.ProcessorCount} cores)";
}
else
{
    peaks = "none (the ILGPU CPU accelerator is a debugging backend)";
}
Console.WriteLine($"device: {device.Kind} ({device.Accelerator.Name}); peaks: {peaks}");
var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(new ThroughputColumn(flops: true), new ThroughputColumn(flops: false));
BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmark).Assembly).Run(args, config);
return 0;
