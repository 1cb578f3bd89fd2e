using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Training;

/// <summary>The three loss terms against hand-computed values.</summary>
public class LossTests
{
    [Fact]
    public void BceMatchesHandComputation()
    {
        // z = 0: log 2 for either label; z = 2, y = 1: log(1 + e^-2); z = -1, y = 1: log(1 + e).
        var r = BceLoss.Evaluate([0f, 2f, -1f], [0, 1, 1]);
        double expected = (Math.Log(2) + Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.E)) / 3;
        Assert.Equal(expected, r.Value, 1e-9);
        Assert.Equal((0.5 - 0) / 3, r.Gradient[0], 1e-6);
        Assert.Equal((1 / (1 + Math.Exp(-2)) - 1) / 3, r.Gradient[1], 1e-6);
        Assert.Throws<ArgumentException>(() => BceLoss.Evaluate([0f], [2]));
    }

    [Fact]
    public void HproMatchesHandComputation()
    {
        // Pair (0 over 1, tier 0, margin 1): Δ = 2 − 0.5 − 1 = 0.5; pair (2 over 1, tier 2, margin 0.2): Δ = 0.3 − 0.5 − 0.2 = −0.4.
        var r = HproLoss.Evaluate([2f, 0.5f, 0.3f], [new(0, 1, 0), new(2, 1, 2)], [1f, 0.5f, 0.2f]);
        double l1 = Math.Log(1 + Math.Exp(-0.5)), l2 = Math.Log(1 + Math.Exp(0.4));
        Assert.Equal((l1 + l2) / 2, r.Value, 1e-6);
        double g1 = -1 / (1 + Math.Exp(0.5)) / 2, g2 = -1 / (1 + Math.Exp(-0.4)) / 2;
        Assert.Equal(g1, r.Gradient[0], 1e-6);
        Assert.Equal(g2, r.Gradient[2], 1e-6);
        Assert.Equal(-(g1 + g2), r.Gradient[1], 1e-6);
    }

    [Fact]
    public void HproWithoutPairsIsZero()
    {
        var r = HproLoss.Evaluate([1f, 2f], [], [1f, 0.5f, 0.2f]);
        Assert.Equal(0, r.Value);
        Assert.All(r.Gradient, g => Assert.Equal(0f, g));
    }
}
