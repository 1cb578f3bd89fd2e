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
if (args.Length > 0 && args[0] == "e2e") return EndToEndBenchmark.Run(args[1..]);
var device = KernelBenchmark.Device;
if (device.Kind == DeviceKind.Cuda)
{
    ThroughputColumn.PeakFlops = 67e12;
    ThroughputColumn.PeakBytes = 3.35e12;
}
Console.WriteLine($"device: {device.Kind} ({device.Accelerator.Name}); peaks: {(ThroughputColumn.PeakFlops > 0 ? "H100 SXM FP32 67 TFLOP/s, 3.35 TB/s" : "none (CPU accelerator is a debugging backend)")}");
var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(new ThroughputColumn(flops: true), new ThroughputColumn(flops: false));
BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmark).Assembly).Run(args, config);
return 0;
