using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Learning;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LeadEngine.Simulation;

/// <summary>The simulator's results over seeds: per-policy conversions with 95% intervals, uplift, A/B test, off-policy checks, chart.</summary>
public sealed class SimulationReport(SimulationOptions options, IReadOnlyList<SeedResult> seeds)
{
    /// <summary>
    /// Per policy, in the order run: expected conversions (the sum of the true conversion
    /// probabilities of the leads it called: the same measure as the realized count without the coin
    /// flips, so seeds differ by what the policies chose, not by luck) as the mean over seeds with a
    /// t-interval; the mean realized count; the mean regret.
    /// </summary>
    public IReadOnlyList<(string Name, double Conversions, double Low, double High, double Realized, double Regret)> Policies { get; } =
        seeds[0].Policies.Select(p => p.Name).Select(name =>
        {
            var runs = seeds.Select(s => s.Policies.Single(p => p.Name == name)).ToList();
            var (mean, low, high) = Statistics.MeanInterval(runs.Select(r => r.ExpectedConversions).ToList());
            return (name, mean, low, high, runs.Average(r => (double)r.Conversions), runs.Average(r => r.Regret));
        }).ToList();

    /// <summary>Relative uplift of continuous over static in expected conversions (per seed, then mean and t-interval).</summary>
    public (double Mean, double Low, double High) UpliftVsStatic { get; } = Statistics.MeanInterval(seeds.Select(s =>
        s.Policies.Single(p => p.Name == "continuous").ExpectedConversions / s.Policies.Single(p => p.Name == "static").ExpectedConversions - 1).ToList());

    /// <summary>The A/B arms pooled over seeds.</summary>
    public AbTest PooledAbTest { get; } = new("static", "continuous", seeds.Sum(s => s.AbTest.ControlConversions), seeds.Sum(s => s.AbTest.TreatmentConversions),
        seeds.Sum(s => s.AbTest.CallsPerArm));

    /// <summary>The JSON <c>simulate --json</c> prints.</summary>
    public string Json() => JsonSerializer.Serialize(new
    {
        days = options.Days, seeds = options.Seeds, leads_per_day = options.LeadsPerDay, calls_per_day = options.CallsPerDay, drift = options.Drift,
        conversions_are = "expected: the sum of the true conversion probabilities of the leads a policy called (realized_conversions: the counts)",
        policies = Policies.Select(p => new
        {
            name = p.Name, conversions = p.Conversions, ci_low = Nan(p.Low), ci_high = Nan(p.High), realized_conversions = p.Realized, regret = p.Regret,
        }),
        uplift_vs_static = new { mean = UpliftVsStatic.Mean, ci_low = Nan(UpliftVsStatic.Low), ci_high = Nan(UpliftVsStatic.High) },
        ab_test = new
        {
            control = PooledAbTest.Control, treatment = PooledAbTest.Treatment, calls_per_arm = PooledAbTest.CallsPerArm,
            control_conversions = PooledAbTest.ControlConversions, treatment_conversions = PooledAbTest.TreatmentConversions,
            uplift = Nan(PooledAbTest.Uplift), z = PooledAbTest.Z, p_value = PooledAbTest.PValue,
        },
        off_policy = OffPolicyJson(s => s.OffPolicy),
        off_policy_from_random_logs = OffPolicyJson(s => s.OffPolicyFromRandom),
        per_seed = seeds.Select(s => new { seed = s.Seed, conversions = s.Policies.ToDictionary(p => p.Name, p => p.Conversions) }),
    }, new JsonSerializerOptions { WriteIndented = true });

    private IEnumerable<object> OffPolicyJson(Func<SeedResult, IReadOnlyList<OffPolicyCheck>> checks) => seeds.SelectMany(s => checks(s).Select(c => (object)new
    {
        seed = s.Seed, target = c.Target, true_value = c.TrueValue,
        ips = Estimate(c.Ips), snips = Estimate(c.SelfNormalizedIps), doubly_robust = Estimate(c.DoublyRobust),
        bounded = Estimate(c.Bounded), unsupported_share = c.UnsupportedShare,
    }));

    private static object Estimate(PolicyEstimate e) => new { value = e.Value, ci_low = e.Low, ci_high = e.High };

    private static double? Nan(double v) => double.IsNaN(v) ? null : v;

    /// <summary>The tables as Markdown.</summary>
    public string Markdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"{options.Days} days, {options.Seeds} seeds, {options.LeadsPerDay} new leads and {options.CallsPerDay} calls a day, drift {options.Drift}:");
        sb.AppendLine();
        sb.AppendLine("| policy | expected conversions (mean) | 95% interval over seeds | realized conversions (mean) | regret |");
        sb.AppendLine("| --- | ---: | --- | ---: | ---: |");
        foreach (var p in Policies)
            sb.AppendLine(c, $"| {p.Name} | {p.Conversions:F1} | {Interval(p.Low, p.High)} | {p.Realized:F1} | {p.Regret:F1} |");
        sb.AppendLine();
        sb.AppendLine(c, $"Continuous vs static: {UpliftVsStatic.Mean:+0.0%;-0.0%} expected conversions ({Interval(UpliftVsStatic.Low, UpliftVsStatic.High, "P1")} over seeds).");
        var ab = PooledAbTest;
        sb.AppendLine(c, $"A/B test (half the leads and calls each, pooled over seeds): static {ab.ControlConversions} vs continuous {ab.TreatmentConversions} conversions " +
            $"in {ab.CallsPerArm} calls per arm: {ab.Uplift:+0.0%;-0.0%}, z = {ab.Z:F2}, p = {ab.PValue:F4}.");
        sb.AppendLine();
        OffPolicyTable(sb, "the continuous policy's logged lists", s => s.OffPolicy);
        OffPolicyTable(sb, "the random policy's logged lists (every open lead with propensity K/N)", s => s.OffPolicyFromRandom);
        return sb.ToString();
    }

    private void OffPolicyTable(StringBuilder sb, string source, Func<SeedResult, IReadOnlyList<OffPolicyCheck>> checks)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"Off-policy estimates of conversions per day from {source}, beside each target's true value on the same open leads:");
        sb.AppendLine();
        sb.AppendLine("| seed " + OffPolicyCheck.MarkdownHeader.Replace("\n", "\n| ---: "));
        foreach (var s in seeds)
            foreach (var check in checks(s))
                sb.AppendLine(c, $"| {s.Seed} {check.MarkdownRow()}");
        sb.AppendLine();
        sb.AppendLine(c, $"Intervals holding the true value: {OffPolicyCheck.Coverage(seeds.SelectMany(checks).ToList())}.");
        sb.AppendLine();
    }

    private static string Interval(double low, double high, string format = "F1") =>
        double.IsNaN(low) ? "-" : string.Create(CultureInfo.InvariantCulture, $"[{low.ToString(format, CultureInfo.InvariantCulture)}, {high.ToString(format, CultureInfo.InvariantCulture)}]");

    /// <summary>Writes <c>simulation.md</c>, <c>simulation.json</c> and <c>cumulative.png</c> / <c>.svg</c> (mean cumulative conversions per policy by day).</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "simulation.json"), Json());
        AtomicFile.WriteAllText(Path.Combine(directory, "simulation.md"), "# Call-centre simulation\n\n" + Markdown() + "\n![cumulative conversions](cumulative.png)\n");
        var days = Enumerable.Range(1, options.Days).Select(d => (double)d).ToList();
        var series = Policies.Select(p => new ChartSeries(p.Name, days, Enumerable.Range(0, options.Days)
            .Select(d => seeds.Average(s => s.Policies.Single(x => x.Name == p.Name).CumulativeExpected[d])).ToList())).ToList();
        ReportCharts.Lines(directory, "cumulative", "Cumulative expected conversions (mean over seeds)", "day", "expected conversions", series);
    }
}
