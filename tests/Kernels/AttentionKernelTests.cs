using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>Causal GQA attention against a plain C# softmax(QKᵀ/√d)·V with the full T×T matrix.</summary>
public class AttentionKernelTests
{
    /// <summary>
    /// Reference: explicit scores and softmax per (sequence, head, query); rows past the length are zero. With
    /// <paramref name="lse"/> ([B·T, heads]), also the log-sum-exp of each row's scaled scores.
    /// </summary>
    public static float[] Reference(float[] q, float[] k, float[] v, int[] lengths, int seqLen, int heads, int kvHeads, int d, float[]? lse = null)
    {
        int batch = lengths.Length;
        var o = new float[batch * seqLen * heads * d];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
            {
                int kh = h / (heads / kvHeads);
                for (int t = 0; t < lengths[b]; t++)
                {
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double s = 0;
                        for (int c = 0; c < d; c++)
                            s += (double)q[((b * seqLen + t) * heads + h) * d + c] * k[((b * seqLen + j) * kvHeads + kh) * d + c];
                        scores[j] = s / Math.Sqrt(d);
                    }
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    if (lse is not null) lse[(b * seqLen + t) * heads + h] = (float)(max + Math.Log(sum));
                    for (int c = 0; c < d; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j <= t; j++) acc += Math.Exp(scores[j] - max) / sum * v[((b * seqLen + j) * kvHeads + kh) * d + c];
                        o[((b * seqLen + t) * heads + h) * d + c] = (float)acc;
                    }
                }
            }
        return o;
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void CausalGqaOddLengths(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int seqLen = 37, heads = 6, kvHeads = 2, d = 10;
        int[] lengths = [37, 1, 20];
        Run(device, lengths, seqLen, heads, kvHeads, d, 17);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void LongerThanOneQueryBlock(string deviceName) => Run(KernelTestData.Device(deviceName), [150, 70], 150, 2, 1, 8, 20);

    /// <summary>
    /// Past one block of the SIMD backend's packed kᵀ and v (64 keys, 256 keys deep) and past one column
    /// block and strip of the head dim (72 = 64 + 8), with a second sequence ending inside a block.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void PastOnePackedBlock(string deviceName) => Run(KernelTestData.Device(deviceName), [300, 257], 300, 2, 1, 72, 21);

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void SingleKvHeadMultiQuery(string deviceName) => Run(KernelTestData.Device(deviceName), [9, 13], 13, 4, 1, 6, 18);

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void MhaWithLargeScores(string deviceName) => Run(KernelTestData.Device(deviceName), [15], 15, 2, 2, 8, 19, scale: 8f);

    private static void Run(ComputeDevice device, int[] lengths, int seqLen, int heads, int kvHeads, int d, int seed, float scale = 1f)
    {
        var run = Launch(device, lengths, seqLen, heads, kvHeads, d, seed, scale);
        Close.Check(Reference(run.Q, run.K, run.V, lengths, seqLen, heads, kvHeads, d), run.O, 1e-5, "attention");
    }

    /// <summary>Seeded q, k, v (q and k times <paramref name="scale"/>) and the device's output and log-sum-exp for them.</summary>
    internal static (float[] Q, float[] K, float[] V, float[] O, float[] Lse) Launch(
        ComputeDevice device, int[] lengths, int seqLen, int heads, int kvHeads, int d, int seed, float scale)
    {
        int rows = lengths.Length * seqLen;
        var q = KernelTestData.Random(rows * heads * d, seed, scale);
        var k = KernelTestData.Random(rows * kvHeads * d, seed + 100, scale);
        var v = KernelTestData.Random(rows * kvHeads * d, seed + 200);
        using var qb = device.Accelerator.Allocate1D(q);
        using var kb = device.Accelerator.Allocate1D(k);
        using var vb = device.Accelerator.Allocate1D(v);
        using var lb = device.Accelerator.Allocate1D(lengths);
        using var ob = device.Accelerator.Allocate1D<float>(q.Length);
        using var lseb = device.Accelerator.Allocate1D<float>(rows * heads);
        AttentionKernels.LaunchForward(device, qb.View, kb.View, vb.View, lb.View, ob.View, lseb.View, lengths.Length, seqLen, heads, kvHeads, d);
        return (q, k, v, ob.GetAsArray1D(), lseb.GetAsArray1D());
    }
}
