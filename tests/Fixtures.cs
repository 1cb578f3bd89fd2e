using System.Text.Json;
using LeadEngine.Kernels;

namespace LeadEngine.Tests;

/// <summary>Paths to the reference fixtures (copied from shared/reference) and their golden values.</summary>
public static class Fixtures
{
    /// <summary>Both fixture folder names.</summary>
    public static readonly string[] Models = ["tiny-qwen2-gqa-tied", "tiny-qwen15-mha-untied"];

    /// <summary>The repository root (the folder holding LeadEngine.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The folder of a fixture model.</summary>
    public static string ModelDir(string name) => Path.Combine(RepoRoot, "tests", "fixtures", name);

    /// <summary>The real bank telemarketing leads beside the checkout (<c>../shared/data/bank-marketing</c>), in time order.</summary>
    public static string BankMarketing { get; } = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data", "bank-marketing", "bank-additional-full.csv"));

    /// <summary>The first <paramref name="rows"/> data rows of <see cref="BankMarketing"/> (with its header) as a file in <paramref name="dir"/>.</summary>
    public static string BankMarketingHead(string dir, int rows)
    {
        if (!File.Exists(BankMarketing)) throw new FileNotFoundException($"{BankMarketing}: the bank-marketing data set is missing (it comes with shared/)");
        string path = Path.Combine(dir, $"bank-{rows}.csv");
        File.WriteAllLines(path, File.ReadLines(BankMarketing).Take(rows + 1));
        return path;
    }

    /// <summary>The parsed golden.json of a fixture.</summary>
    public static JsonElement Golden(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ModelDir(name), "golden.json"))).RootElement;

    /// <summary>A JSON array of numbers as floats.</summary>
    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    /// <summary>A JSON array of arrays of numbers.</summary>
    public static float[][] Rows(JsonElement e) => e.EnumerateArray().Select(Floats).ToArray();

    /// <summary>The golden batch: sequences cut to their lengths.</summary>
    public static int[][] Sequences(JsonElement golden)
    {
        var lengths = golden.GetProperty("lengths").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return golden.GetProperty("input_ids").EnumerateArray()
            .Select((row, i) => row.EnumerateArray().Select(v => v.GetInt32()).Take(lengths[i]).ToArray()).ToArray();
    }

    /// <summary>The SIMD CPU backend, shared by the tests.</summary>
    public static ComputeDevice Simd => LazySimd.Value;

    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator, shared by the tests (kernels compile once).</summary>
    public static ComputeDevice Kernels => LazyKernels.Value;

    /// <summary>
    /// The devices the device theories run on: <c>LEADENGINE_TEST_DEVICES</c> (a comma list of ilgpu,
    /// ilgpu-odd-shapes, simd, cuda, opencl; the GPU script runs the published tests with cuda), else the CPU
    /// ones: the ILGPU kernels on the CPU accelerator with default and with unusual group shapes, and SIMD.
    /// </summary>
    public static IReadOnlyList<string> TestDevices { get; } =
        Environment.GetEnvironmentVariable("LEADENGINE_TEST_DEVICES") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["ilgpu", "ilgpu-odd-shapes", "simd"];

    /// <summary>The test devices apart from the odd group shapes, for theories over whole models.</summary>
    public static IEnumerable<object[]> Backends() => TestDevices.Where(d => d != "ilgpu-odd-shapes").Select(d => new object[] { d });

    /// <summary>The device named in <see cref="TestDevices"/>, opened once per test run.</summary>
    public static ComputeDevice Backend(string name) => name switch
    {
        "simd" => Simd,
        "ilgpu" => Kernels,
        "ilgpu-odd-shapes" => LazyOddShapes.Value,
        "cuda" => LazyCuda.Value,
        "opencl" => LazyOpenCl.Value,
        "ilgpu-tensor-cores" => LazyTensorCoreEmulation.Value,
        "cuda-tensor-cores" => LazyCudaTensorCores.Value,
        _ => throw new ArgumentException($"LEADENGINE_TEST_DEVICES: unknown device '{name}' (expected ilgpu, ilgpu-odd-shapes, simd, cuda or opencl)"),
    };

    private static readonly Lazy<ComputeDevice> LazySimd = new(() => ComputeDevice.Open(DeviceKind.Cpu));
    private static readonly Lazy<ComputeDevice> LazyKernels = new(() => ComputeDevice.Open(DeviceKind.IlgpuCpu));
    private static readonly Lazy<ComputeDevice> LazyOddShapes = new(() =>
        ComputeDevice.Open(DeviceKind.IlgpuCpu, new LaunchShapes(ReduceGroup: 8, MatMulGroupX: 2, MatMulGroupY: 8, AttentionQueryBlock: 5, AttentionKeyBlock: 3, ElementwiseGroup: 16)));
    private static readonly Lazy<ComputeDevice> LazyCuda = new(() => ComputeDevice.Open(DeviceKind.Cuda));
    private static readonly Lazy<ComputeDevice> LazyOpenCl = new(() => ComputeDevice.Open(DeviceKind.OpenCL));
    private static readonly Lazy<ComputeDevice> LazyTensorCoreEmulation = new(() => ComputeDevice.Open(DeviceKind.IlgpuCpu, tensorCores: true));
    private static readonly Lazy<ComputeDevice> LazyCudaTensorCores = new(() => ComputeDevice.Open(DeviceKind.Cuda, tensorCores: true));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LeadEngine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LeadEngine.sln not found above the test binaries");
    }
}

/// <summary>Relative-error assertions.</summary>
public static class Close
{
    /// <summary>
    /// Asserts max |a−e| ≤ tol·max(|e|) over the vector (relative error against the vector's scale,
    /// so entries near zero are judged against the magnitude of the whole tensor).
    /// </summary>
    public static double Check(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (err > worst) { worst = err; at = i; }
        }
        double rel = worst / Math.Max(scale, 1e-30);
        Xunit.Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} at [{at}] (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}) exceeds {tolerance:E1}");
        return rel;
    }
}
