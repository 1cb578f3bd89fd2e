using LeadEngine.Learning;

namespace LeadEngine.Tests.Learning;

/// <summary>The Bayesian linear head against the closed-form ridge solution and its posterior covariance.</summary>
public sealed class BayesianLinearHeadTests
{
    [Fact]
    public void PosteriorMeanIsTheRidgeSolutionAroundThePriorMean()
    {
        var rng = new Random(3);
        double[] priorMean = [0.5, -1, 0], precision = [2, 3, 5];
        const double Noise = 0.25;
        var head = new BayesianLinearHead(priorMean, precision, Noise);
        var xs = Enumerable.Range(0, 40).Select(_ => new[] { 1.0, rng.NextDouble() * 2 - 1, rng.NextDouble() }).ToList();
        var rs = xs.Select(x => 0.3 * x[0] + 2 * x[1] - x[2] + 0.1 * (rng.NextDouble() - 0.5)).ToList();
        for (int i = 0; i < xs.Count; i++) head.Update(xs[i], rs[i]);

        // (diag(λ) + XᵀX/σ²) μ = diag(λ)m₀ + Xᵀr/σ², solved by Gaussian elimination in doubles.
        var a = new double[3, 4];
        for (int i = 0; i < 3; i++)
        {
            a[i, i] += precision[i];
            a[i, 3] += precision[i] * priorMean[i];
            for (int n = 0; n < xs.Count; n++)
            {
                for (int j = 0; j < 3; j++) a[i, j] += xs[n][i] * xs[n][j] / Noise;
                a[i, 3] += xs[n][i] * rs[n] / Noise;
            }
        }
        for (int c = 0; c < 3; c++)
            for (int r = c + 1; r < 3; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int j = c; j < 4; j++) a[r, j] -= f * a[c, j];
            }
        var mu = new double[3];
        for (int i = 2; i >= 0; i--)
        {
            double s = a[i, 3];
            for (int j = i + 1; j < 3; j++) s -= a[i, j] * mu[j];
            mu[i] = s / a[i, i];
        }
        for (int i = 0; i < 3; i++) Assert.Equal(mu[i], head.Mean[i], 10);
        Assert.Equal(BayesianLinearHead.Dot(mu, xs[0]), head.Predict(xs[0]), 10);
        Assert.Equal(40, head.Observations);
    }

    [Fact]
    public void DrawsHaveThePosteriorMeanAndCovariance()
    {
        var head = new BayesianLinearHead([0, 0], [1, 4], 0.5);
        head.Update([1, 1], 1);
        head.Update([1, -2], 0);
        // A = diag(1, 4) + [[2, -1], [-1, 5]] / 0.5 = [[5, -2], [-2, 14]]; A⁻¹ = [[14, 2], [2, 5]] / 66.
        double[,] cov = { { 14 / 66.0, 2 / 66.0 }, { 2 / 66.0, 5 / 66.0 } };
        var rng = new Random(5);
        const int Draws = 40000;
        var sum = new double[2];
        var outer = new double[2, 2];
        var mean = head.Mean;
        for (int n = 0; n < Draws; n++)
        {
            var w = head.SampleWeights(rng);
            for (int i = 0; i < 2; i++)
            {
                sum[i] += w[i];
                for (int j = 0; j < 2; j++) outer[i, j] += (w[i] - mean[i]) * (w[j] - mean[j]);
            }
        }
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(mean[i], sum[i] / Draws, 0.01); // 4 standard errors
            for (int j = 0; j < 2; j++) Assert.Equal(cov[i, j], outer[i, j] / Draws, 0.01);
        }
        Assert.Equal(cov[0, 0] + cov[1, 1] + 2 * cov[0, 1], head.PredictiveVariance([1, 1]), 10);
        // A scaled draw spreads by the scale.
        var spread = Enumerable.Range(0, Draws).Select(_ => head.SampleWeights(rng, 0.5)[0] - mean[0]).Select(d => d * d).Average();
        Assert.Equal(0.25 * cov[0, 0], spread, 0.005);
    }
}
