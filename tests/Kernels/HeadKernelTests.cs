using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The fused head projection: LM logits (full or a token list) and both score heads, one hidden row per sequence.</summary>
public class HeadKernelTests
{
    /// <summary>
    /// Reference: plain dot products of each sequence's row with the LM rows and the score heads, plus,
    /// for wide-and-deep heads, the feature row x [B, F] with the feature weights v [2, F].
    /// </summary>
    public static (float[] Logits, float[] Scores) Reference(float[] hidden, int batch, int h, float[] lm, int[]? tokens, int vocab, float[] sw, float[] sb,
        float[]? x = null, float[]? v = null)
    {
        int f = v is null ? 0 : v.Length / 2;
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
                for (int j = 0; j < f; j++) s += (double)x![b * f + j] * v![r * f + j];
                scores[b * 2 + r] = (float)s;
            }
        }
        return (logits, scores);
    }

    public static IEnumerable<object[]> Cases() =>
        KernelTestData.Devices().SelectMany(d => new[] { new[] { d[0], false, 0 }, new[] { d[0], true, 0 }, new[] { d[0], true, 7 }, new[] { d[0], false, 1 } });

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsAndScores(string deviceName, bool tokenList, int featureCount)
    {
        var device = KernelTestData.Device(deviceName);
        int batch = 3, h = 13, vocab = 29;
        var x = KernelTestData.Random(batch * featureCount, 24);
        var v = KernelTestData.Random(2 * featureCount, 25);
        using var xb = device.Accelerator.Allocate1D(featureCount > 0 ? x : [0f]);
        using var vb = device.Accelerator.Allocate1D(featureCount > 0 ? v : [0f]);
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
            swb.View, sbb.View, featureCount > 0 ? (ArrayView<float>)xb.View : ArrayView<float>.Empty, featureCount > 0 ? (ArrayView<float>)vb.View : ArrayView<float>.Empty,
            logits.View, scores.View, batch, h, vocab);
        var (expectedLogits, expectedScores) = Reference(hidden, batch, h, lmF, tokens, vocab, sw, sb, x, v);
        Close.Check(expectedLogits, logits.GetAsArray1D(), 1e-5, "head logits");
        Close.Check(expectedScores, scores.GetAsArray1D(), 1e-5, "head scores");
    }

    [Fact]
    public void FeatureShapesAreChecked()
    {
        // Two sequences, hidden 3, vocabulary 2, feature weights for F = 2 but 5 feature values instead of 2 × 2.
        var device = KernelTestData.Device("simd");
        using var buffer = device.Accelerator.Allocate1D<float>(64);
        using var lm = device.Accelerator.Allocate1D(new F32[6]);
        var view = buffer.View;
        var error = Assert.Throws<ArgumentException>(() => HeadKernels.LaunchForward<F32>(device, view.SubView(0, 6), lm.View,
            ArrayView<int>.Empty, view.SubView(0, 6), view.SubView(0, 2), view.SubView(0, 5), view.SubView(0, 4), view.SubView(0, 4), view.SubView(0, 4), 2, 3, 2));
        Assert.Contains("[B, F] and [2, F]", error.Message);
    }
}
