using LeadEngine.Engine;
using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Training;

/// <summary>AdamW against a hand computation, the schedule, and clipping.</summary>
public class OptimizerTests
{
    private static ParameterSet Set(ParameterGroup group, float[] values, float[] grads)
    {
        var set = new ParameterSet(Fixtures.Simd, group, [("t", [values.Length], values)]);
        set.Gradients.CopyFromCPU(grads);
        return set;
    }

    /// <summary>torch.optim.AdamW's update in double precision.</summary>
    private static double[] HandAdamW(double[] p, double[][] grads, double lr, double wd, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
    {
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= grads.Length; t++)
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                p[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps);
            }
        return p;
    }

    [Fact]
    public void TwoStepsMatchHandComputationWithDifferentialRates()
    {
        float[] p0 = [0.5f, -1.0f, 2.0f];
        float[] g1 = [0.1f, -0.2f, 0.05f], g2 = [-0.3f, 0.1f, 0.0f];
        using var heads = Set(ParameterGroup.Heads, p0, g1);
        using var lora = Set(ParameterGroup.Lora, p0, g1);
        var options = new AdamWOptions { LearningRate = 0.01, LoraRateDivisor = 20, WeightDecay = 0.1, MaxGradNorm = 0 };
        using var opt = new AdamW(options, heads, lora);
        var s1 = opt.Step();
        Assert.All(heads.ReadAllValues().Concat(lora.ReadAllValues()), v => Assert.NotEqual(0f, v));
        Assert.All(heads.ReadGradient(heads.Entries[0]), g => Assert.Equal(0f, g));
        heads.Gradients.CopyFromCPU(g2);
        lora.Gradients.CopyFromCPU(g2);
        opt.Step();
        double[][] grads = [g1.Select(v => (double)v).ToArray(), g2.Select(v => (double)v).ToArray()];
        var expectedHeads = HandAdamW(p0.Select(v => (double)v).ToArray(), grads, 0.01, 0.1);
        var expectedLora = HandAdamW(p0.Select(v => (double)v).ToArray(), grads, 0.01 / 20, 0.1);
        Close.Check(expectedHeads.Select(v => (float)v).ToArray(), heads.ReadAllValues(), 1e-6, "heads after 2 steps");
        Close.Check(expectedLora.Select(v => (float)v).ToArray(), lora.ReadAllValues(), 1e-6, "lora after 2 steps");
        Assert.Equal(Math.Sqrt(2 * g1.Sum(g => g * g)), s1.GradNorm, 1e-5);
        Assert.Equal(0.01 / 20, s1.LoraRate, 12);
    }

    [Fact]
    public void ClippingAndAccumulationScaleTheGradient()
    {
        // Accumulated over 2 micro-batches: averaged gradient (3, 4)/2 has norm 2.5; clipped to 1 → (0.6, 0.8).
        using var set = Set(ParameterGroup.Heads, [0f, 0f], [3f, 4f]);
        using var opt = new AdamW(new AdamWOptions { LearningRate = 0.1, WeightDecay = 0, MaxGradNorm = 1.0 }, set);
        var step = opt.Step(accumulated: 2);
        Assert.Equal(2.5, step.GradNorm, 5);
        // First Adam step moves each coordinate by ≈ lr·sign(g), whatever the scale: the direction is what clipping keeps.
        var p = set.ReadAllValues();
        Assert.Equal(-0.1, p[0], 4);
        Assert.Equal(-0.1, p[1], 4);
    }

    [Fact]
    public void WarmupThenCosineAndLinear()
    {
        var cosine = new LearningRateSchedule(10, 110, DecayKind.Cosine);
        Assert.Equal(0.1, cosine.Factor(1), 12);
        Assert.Equal(1.0, cosine.Factor(10), 12);
        Assert.Equal(0.5, cosine.Factor(60), 12);
        Assert.Equal(0.0, cosine.Factor(110), 12);
        var linear = new LearningRateSchedule(0, 100, DecayKind.Linear);
        Assert.Equal(0.75, linear.Factor(25), 12);
        Assert.Equal(1.0, new LearningRateSchedule(5, 100, DecayKind.Constant).Factor(50), 12);
    }
}
