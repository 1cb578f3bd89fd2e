using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>One timing policy's run on one seed.</summary>
/// <param name="Name">The policy.</param>
/// <param name="Attempts">Calls made.</param>
/// <param name="Answered">Calls answered.</param>
/// <param name="Conversions">Leads converted.</param>
/// <param name="ExpectedAnswered">Σ of the called leads' true availability in their windows (the contact count without the answers' luck).</param>
/// <param name="WeeklyContactRate">Answered over attempts per week.</param>
/// <param name="Log">The learned policy's calls, for the off-policy check; null for the others.</param>
/// <param name="Model">The learned policy's pick-up model at the end; null for the others.</param>
public sealed record TimingPolicyRun(string Name, int Attempts, int Answered, int Conversions, double ExpectedAnswered, double[] WeeklyContactRate,
    [property: JsonIgnore] IReadOnlyList<TimingAttempt>? Log, [property: JsonIgnore] PickupModel? Model)
{
    /// <summary>Answered over attempts.</summary>
    public double ContactRate => Attempts == 0 ? double.NaN : (double)Answered / Attempts;
}

/// <summary>A target timing's off-policy estimate from the learned policy's logs beside its true contact rate on the same calls.</summary>
public sealed record TimingOffPolicyCheck(string Policy, double Truth, double Estimate, double Low, double High, double UnsupportedShare)
{
    /// <summary>True when the interval holds the truth.</summary>
    public bool Covered => Low <= Truth && Truth <= High;
}

/// <summary>Every policy's run and the off-policy checks of one seed.</summary>
public sealed record TimingSeedResult(int Seed, IReadOnlyList<TimingPolicyRun> Runs, IReadOnlyList<TimingOffPolicyCheck> OffPolicy)
{
    /// <summary>The run of <paramref name="policy"/>.</summary>
    public TimingPolicyRun Run(string policy) => Runs.Single(r => r.Name == policy);
}

/// <summary>The timing simulation over seeds: means, gains over uniform timing with 95% intervals over seeds, off-policy coverage, the report.</summary>
public sealed class TimingResult(TimingOptions options, IReadOnlyList<TimingSeedResult> seeds)
{
    /// <summary>The settings run.</summary>
    public TimingOptions Options => options;

    /// <summary>Each seed's results.</summary>
    public IReadOnlyList<TimingSeedResult> Seeds => seeds;

    /// <summary>Relative gain of <paramref name="policy"/> over uniform in <paramref name="metric"/>, per seed: mean and 95% interval.</summary>
    public (double Mean, double Low, double High) GainOverUniform(string policy, Func<TimingPolicyRun, double> metric) =>
        Statistics.MeanInterval(seeds.Select(s => metric(s.Run(policy)) / metric(s.Run("uniform")) - 1).ToList());

    /// <summary>The policy's contact rate in the last week over the oracle's, mean over seeds.</summary>
    public double LastWeekShareOfOracle(string policy) =>
        seeds.Average(s => s.Run(policy).WeeklyContactRate.Last(r => !double.IsNaN(r)) / s.Run("oracle").WeeklyContactRate.Last(r => !double.IsNaN(r)));

    /// <summary>Share of the off-policy intervals (every target, every seed) that hold the truth.</summary>
    public double Coverage => seeds.SelectMany(s => s.OffPolicy).Average(c => c.Covered ? 1.0 : 0.0);

    private static double Contact(TimingPolicyRun r) => r.ContactRate;
    private static double Conversions(TimingPolicyRun r) => r.Conversions;

    /// <summary>The JSON report: <c>timing</c> with <c>policies</c> (means over seeds), <c>gain_over_uniform</c> ([mean, low, high]) and the checks.</summary>
    public string Json()
    {
        double[] Triple((double Mean, double Low, double High) g) => [g.Mean, g.Low, g.High];
        var report = new
        {
            timing = new
            {
                options.Days, options.Seeds, options.LeadsPerDay, options.CallsPerDay, options.CapacityPerWindow, options.Drift, options.Exploration,
                policies = TimingSimulation.Policies.Select(p => new
                {
                    name = p,
                    contact_rate = seeds.Average(s => s.Run(p).ContactRate),
                    conversions = seeds.Average(s => (double)s.Run(p).Conversions),
                    attempts = seeds.Average(s => (double)s.Run(p).Attempts),
                    regret = seeds.Average(s => s.Run("oracle").ExpectedAnswered - s.Run(p).ExpectedAnswered),
                    last_week_contact_rate = seeds.Average(s => s.Run(p).WeeklyContactRate.Last(r => !double.IsNaN(r))),
                    last_week_share_of_oracle = LastWeekShareOfOracle(p),
                }).ToList(),
                gain_over_uniform = new { contact_rate = Triple(GainOverUniform("learned", Contact)), conversions = Triple(GainOverUniform("learned", Conversions)) },
                best_slot_gain_over_uniform = new { contact_rate = Triple(GainOverUniform("best_slot", Contact)), conversions = Triple(GainOverUniform("best_slot", Conversions)) },
                off_policy = seeds.SelectMany(s => s.OffPolicy.Select(c => new
                {
                    seed = s.Seed, policy = c.Policy, truth = c.Truth, estimate = c.Estimate, low = c.Low, high = c.High, covered = c.Covered,
                    unsupported_share = c.UnsupportedShare,
                })).ToList(),
                off_policy_coverage = Coverage,
                per_seed = seeds.Select(s => new
                {
                    seed = s.Seed,
                    policies = s.Runs.Select(r => new { name = r.Name, r.Attempts, r.Answered, r.Conversions, contact_rate = r.ContactRate, weekly_contact_rate = r.WeeklyContactRate }),
                }),
            },
        };
        return JsonSerializer.Serialize(report, new JsonSerializerOptions
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
    }

    /// <summary>The report as Markdown: the policies' table, the gains, the off-policy checks.</summary>
    public string Markdown()
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"## When to call: {options.Seeds} seeds × {options.Days} days, {options.LeadsPerDay} leads and {options.CallsPerDay} calls a day, " +
            $"{options.CapacityPerWindow} calls per two-hour window, drift {options.Drift}");
        md.AppendLine();
        md.AppendLine("| timing | contact rate | last week | last week / oracle | conversions | regret (contacts) |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var p in TimingSimulation.Policies)
            md.AppendLine(c, $"| {p} | {seeds.Average(s => s.Run(p).ContactRate):P1} | {seeds.Average(s => s.Run(p).WeeklyContactRate.Last(r => !double.IsNaN(r))):P1} | " +
                $"{LastWeekShareOfOracle(p):P0} | {seeds.Average(s => (double)s.Run(p).Conversions):F1} | {seeds.Average(s => s.Run("oracle").ExpectedAnswered - s.Run(p).ExpectedAnswered):F1} |");
        md.AppendLine();
        string Gain((double Mean, double Low, double High) g) => string.Create(c, $"{g.Mean:+0.0%;-0.0%} [{g.Low:+0.0%;-0.0%}, {g.High:+0.0%;-0.0%}]");
        md.AppendLine(c, $"Over uniform timing (95% intervals over seeds): learned contact rate {Gain(GainOverUniform("learned", Contact))}, " +
            $"conversions {Gain(GainOverUniform("learned", Conversions))}; best slot contact rate {Gain(GainOverUniform("best_slot", Contact))}, " +
            $"conversions {Gain(GainOverUniform("best_slot", Conversions))}.");
        md.AppendLine();
        md.AppendLine("Off-policy (doubly robust, from the learned policy's logged calls, each a choice among the day's windows; truth: the target's contact rate on the same calls):");
        md.AppendLine();
        md.AppendLine("| seed | target | truth | estimate [95%] | covered | unsupported |");
        md.AppendLine("| ---: | --- | ---: | --- | --- | ---: |");
        foreach (var s in seeds)
            foreach (var check in s.OffPolicy)
                md.AppendLine(c, $"| {s.Seed} | {check.Policy} | {check.Truth:P1} | {check.Estimate:P1} [{check.Low:P1}, {check.High:P1}] | {(check.Covered ? "yes" : "no")} | {check.UnsupportedShare:P0} |");
        md.AppendLine();
        md.AppendLine(c, $"Coverage: {Coverage:P0} of the intervals hold the truth.");
        return md.ToString();
    }

    /// <summary>
    /// Writes timing.md, timing.json, the weekly contact rate per policy (timing-weekly.png/.svg), and the first seed's learned
    /// P(answer) by weekday × hour (timing-heatmap) beside the observed rates and attempts (timing-observed) into <paramref name="directory"/>.
    /// </summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "timing.md"), Markdown());
        AtomicFile.WriteAllText(Path.Combine(directory, "timing.json"), Json());
        var series = TimingSimulation.Policies.Select(p => new ChartSeries(p,
            Enumerable.Range(1, seeds[0].Run(p).WeeklyContactRate.Length).Select(w => (double)w).ToList(),
            Enumerable.Range(0, seeds[0].Run(p).WeeklyContactRate.Length).Select(w => seeds.Average(s => s.Run(p).WeeklyContactRate[w])).ToList())).ToList();
        ReportCharts.Lines(directory, "timing-weekly", "Contact rate by week", "week", "answered / attempts", series, markers: true);
        var learned = seeds[0].Run("learned");
        var observed = PickupHeatmap.Observed(learned.Log!.Select(a => (TimingWorld.Slot(a.Day, a.Window), a.Answered)));
        var rates = PickupHeatmap.Learned(learned.Model!, learned.Log!.Select(a => a.Lead.Visible).ToList()).Where(observed.Counts);
        ReportCharts.Heatmap(directory, "timing-heatmap", "Learned P(answer) by weekday × hour, simulated call centre", rates.Rates);
        ReportCharts.Heatmap(directory, "timing-observed", "Observed answer rate and attempts by weekday × hour", observed.Rates, observed.Counts);
    }
}
