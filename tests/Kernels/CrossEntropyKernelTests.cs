using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The LM head's softmax cross-entropy, loss and in-place gradient, against double precision.</summary>
public class CrossEntropyKernelTests
{
    /// <summary>Reference: per row, logsumexp − z[target], and scale·(softmax − onehot).</summary>
    public static (double[] Losses, float[] Gradient) Reference(float[] logits, int[] targets, int vocab, float scale)
    {
        var losses = new double[targets.Length];
        var gradient = new float[logits.Length];
        for (int b = 0; b < targets.Length; b++)
        {
            var row = logits.AsSpan(b * vocab, vocab);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float z in row) max = Math.Max(max, z);
            foreach (float z in row) sum += Math.Exp(z - max);
            losses[b] = max + Math.Log(sum) - row[targets[b]];
            for (int i = 0; i < vocab; i++)
                gradient[b * vocab + i] = (float)(scale * (Math.Exp(row[i] - max) / sum - (i == targets[b] ? 1 : 0)));
        }
        return (losses, gradient);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void LossAndGradientOverTheVocabulary(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        // 5,000 logits cross the SIMD backend's 4,096-value partial sums; row 2 is peaked (one logit far above the rest).
        int vocab = 5000;
        int[] targets = [17, 4999, 3];
        var logits = KernelTestData.Random(targets.Length * vocab, 21, 8f);
        logits[2 * vocab + 3] = 60f;
        float scale = 0.2f / targets.Length;
        var (losses, gradient) = Reference(logits, targets, vocab, scale);
        using var lb = device.Accelerator.Allocate1D(logits);
        using var tb = device.Accelerator.Allocate1D(targets);
        using var lossBuffer = device.Accelerator.Allocate1D<float>(targets.Length);
        CrossEntropyKernels.LaunchForwardBackward(device, lb.View, tb.View, lossBuffer.View, targets.Length, vocab, scale);
        var actual = lossBuffer.GetAsArray1D();
        for (int b = 0; b < targets.Length; b++) Assert.True(Math.Abs(actual[b] - losses[b]) <= 1e-5 * Math.Max(1, losses[b]), $"row {b}: loss {actual[b]} vs {losses[b]}");
        Close.Check(gradient, lb.GetAsArray1D(), 1e-5, "dlogits");
        Assert.Equal(0, lb.GetAsArray1D().Sum(g => (double)g), 1e-6);
    }
}
