using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The fused head projection: LM logits (full or a token list) and both score heads, one hidden row per sequence.</summary>
public class HeadKernelTests
{
    /// <summary>Reference: plain dot products of each sequence's row with the LM rows and the score heads.</summary>
    public static (float[] Logits, float[] Scores) Reference(float[] hidden, int batch, int h, float[] lm, int[]? tokens, int vocab, float[] sw, float[] sb)
    {
        int count = tokens?.Length ?? vocab;
        var logits = new float[batch * count];
        var scores = new float[batch * 2];
        for (int b = 0; b < batch; b++)
        {
            int row = b * h;
            for (int j = 0; j < count; j++)
            {
                int id = tokens?[j] ?? j;
                double s = 0;
                for (int c = 0; c < h; c++) s += (double)hidden[row + c] * lm[id * h + c];
                logits[b * count + j] = (float)s;
            }
            for (int r = 0; r < 2; r++)
            {
                double s = sb[r];
                for (int c = 0; c < h; c++) s += (double)hidden[row + c] * sw[r * h + c];
                scores[b * 2 + r] = (float)s;
            }
        }
        return (logits, scores);
    }

    public static IEnumerable<object[]> Cases() =>
        KernelTestData.Devices().SelectMany(d => new[] { new[] { d[0], false }, new[] { d[0], true } });

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsAndScores(string deviceName, bool tokenList)
    {
        var device = KernelTestData.Device(deviceName);
        int batch = 3, h = 13, vocab = 29;
        int[]? tokens = tokenList ? [28, 3] : null;
        var hidden = KernelTestData.Random(batch * h, 20);
        var (lm, lmF) = KernelTestData.RandomBf16(vocab * h, 21);
        var sw = KernelTestData.Random(2 * h, 22);
        var sb = KernelTestData.Random(2, 23);
        using var hb = device.Accelerator.Allocate1D(hidden);
        using var lmb = device.Accelerator.Allocate1D(lm);
        using var tb = device.Accelerator.Allocate1D(tokens ?? [0]);
        using var swb = device.Accelerator.Allocate1D(sw);
        using var sbb = device.Accelerator.Allocate1D(sb);
        int count = tokens?.Length ?? vocab;
        using var logits = device.Accelerator.Allocate1D<float>(batch * count);
        using var scores = device.Accelerator.Allocate1D<float>(batch * 2);
        HeadKernels.LaunchForward<Bf16>(device, hb.View, lmb.View, tokens is null ? ArrayView<int>.Empty : tb.View,
            swb.View, sbb.View, logits.View, scores.View, batch, h, vocab);
        var (expectedLogits, expectedScores) = Reference(hidden, batch, h, lmF, tokens, vocab, sw, sb);
        Close.Check(expectedLogits, logits.GetAsArray1D(), 1e-5, "head logits");
        Close.Check(expectedScores, scores.GetAsArray1D(), 1e-5, "head scores");
    }
}
