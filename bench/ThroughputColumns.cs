using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LeadEngine.Bench;

/// <summary>
/// GFLOP/s or GB/s from the mean time and the <see cref="KernelShape"/> parameter, with the fraction
/// of the device's peak. Peaks: H100 SXM (67 TFLOP/s FP32, 3.35 TB/s) on CUDA; measured by
/// <see cref="CpuPeak"/> on the SIMD CPU backend; none on the ILGPU CPU accelerator (a debugging backend).
/// </summary>
public sealed class ThroughputColumn(bool flops) : IColumn
{
    /// <summary>Peak of the device the run used (0 when unknown), set by Program before running.</summary>
    public static double PeakFlops { get; set; }

    /// <summary>Peak memory bandwidth in bytes/s (0 when unknown).</summary>
    public static double PeakBytes { get; set; }

    public string Id => flops ? "GFLOPs" : "GBs";
    public string ColumnName => flops ? "GFLOP/s (% peak)" : "GB/s (% peak)";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => flops ? 0 : 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => flops ? "Achieved GFLOP/s and fraction of FP32 peak" : "Achieved GB/s and fraction of memory bandwidth peak";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var shape = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<KernelShape>().FirstOrDefault();
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (shape is null || stats is null) return "-";
        double seconds = stats.Mean * 1e-9;
        double rate = (flops ? shape.Flops : shape.Bytes) / seconds;
        double peak = flops ? PeakFlops : PeakBytes;
        string value = $"{rate / 1e9:F2}";
        return peak > 0 ? $"{value} ({100 * rate / peak:F1}%)" : value;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}
