using System.Text.Json;
using LeadEngine.Learning;

namespace LeadEngine.Tests.Learning;

/// <summary>The simulator through the CLI on a small world, and the PCA its continuous policy reads.</summary>
public sealed class SimulationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-sim-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void SimulateJsonHasEveryPolicyTheUpliftAndTheChecks()
    {
        var (code, stdout, err) = CliRunner.Run("simulate", "--days", "4", "--seeds", "2", "--leads-per-day", "25", "--calls-per-day", "4",
            "--history-days", "2", "--retrain-every", "2", "--json", "--out", _dir);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var policies = root.GetProperty("policies").EnumerateArray().ToList();
        Assert.Equal(["random", "funnel_recency", "static", "periodic", "continuous", "oracle"], policies.Select(p => p.GetProperty("name").GetString()));
        foreach (var p in policies)
        {
            double conversions = p.GetProperty("conversions").GetDouble();
            Assert.InRange(conversions, p.GetProperty("ci_low").GetDouble(), p.GetProperty("ci_high").GetDouble());
            Assert.True(p.GetProperty("regret").GetDouble() >= -1e-9);
        }
        var oracle = policies.Single(p => p.GetProperty("name").GetString() == "oracle");
        Assert.All(policies, p => Assert.True(p.GetProperty("conversions").GetDouble() <= oracle.GetProperty("conversions").GetDouble() + 1e-9));
        var uplift = root.GetProperty("uplift_vs_static");
        Assert.InRange(uplift.GetProperty("mean").GetDouble(), uplift.GetProperty("ci_low").GetDouble(), uplift.GetProperty("ci_high").GetDouble());
        Assert.Equal(2 * 4 * 2, root.GetProperty("ab_test").GetProperty("calls_per_arm").GetInt32());
        Assert.Equal(2 * 4, root.GetProperty("off_policy").GetArrayLength());
        // From the random policy's logs: static, random (on-policy) and funnel+recency, per seed.
        Assert.Equal(2 * 3, root.GetProperty("off_policy_from_random_logs").GetArrayLength());
        foreach (var file in new[] { "simulation.md", "simulation.json" }) Assert.True(File.Exists(Path.Combine(_dir, file)), file);
        Evaluation.ChartAssert.ShowsEverySeries(_dir, "cumulative", policies.Select(p => p.GetProperty("name").GetString()!));
    }

    [Fact]
    public void PcaWhitensTheLeadingComponents()
    {
        // Points along (1, 1, 0) with spread 3 and along (1, −1, 0) with spread 1, none along z.
        var rng = new Random(4);
        var rows = Enumerable.Range(0, 4000).Select(_ =>
        {
            double a = 3 * LeadEngine.LeadScoring.SyntheticLeads.Gaussian(rng), b = LeadEngine.LeadScoring.SyntheticLeads.Gaussian(rng);
            return new[] { (float)(a + b + 5), (float)(a - b), 0.001f * (float)LeadEngine.LeadScoring.SyntheticLeads.Gaussian(rng) };
        }).ToList();
        var pca = Pca.Fit(rows, 2);
        var projected = rows.Select(pca.Transform).ToList();
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(0, projected.Average(p => p[k]), 6);
            Assert.Equal(1, projected.Sum(p => p[k] * p[k]) / (rows.Count - 1), 6);
        }
        // The first component is the (1, 1) direction: a step along it moves component 0 only.
        var step = pca.Transform([6, 1, 0]).Zip(pca.Transform([5, 0, 0]), (x, y) => x - y).ToArray();
        Assert.True(Math.Abs(step[0]) > 10 * Math.Abs(step[1]), string.Join(", ", step));
        var (values, _) = Pca.Eigen(new double[,] { { 2, 1 }, { 1, 2 } });
        Assert.Equal([1.0, 3.0], values.Order().Select(v => Math.Round(v, 10)));
    }
}
