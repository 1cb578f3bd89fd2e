using System.Globalization;
using System.Text;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>
/// What timing would have done, estimated from a lead file that logs when each contact happened but was not randomised
/// (the bank file: the weekday of the last contact). The logging policy's propensities are estimated from the data: the
/// share of each slot value (weekday) within each stratum of the columns that steered when leads were called (month and
/// contact type by default). Leads are split in two by a hash of their id (<see cref="LeadShard"/>: both halves span the whole
/// period, and no pattern in the file's order lines up with the split): the first half
/// fits each stratum's conversion rate per slot (shrunk to the stratum's rate), the second is where each timing is
/// estimated by <see cref="OffPolicy.DoublyRobust"/>, each lead a choice among the slot values. Timings: as logged, a
/// uniformly random slot, and each stratum's best slot in the first half.
/// What it cannot tell: anything that steered both the day and the outcome beyond the strata (campaigns, reps, news)
/// biases it; it is conversion by slot, not pick-up (the file has no unanswered attempts); and a weekday, not an hour.
/// </summary>
public static class LoggedTiming
{
    /// <summary>Pseudo-counts that shrink a stratum's rate in one slot towards its rate over all slots.</summary>
    public const double Shrinkage = 20;

    /// <summary>Estimates from <paramref name="leads"/> (each with its outcome), slots in <paramref name="slotColumn"/>, strata by <paramref name="strataColumns"/>.</summary>
    public static LoggedTimingResult Estimate(IReadOnlyList<Lead> leads, string slotColumn, IReadOnlyList<string> strataColumns)
    {
        string? Column(Lead lead, string column) => lead.Features.FirstOrDefault(f => f.Key.Equals(column, StringComparison.OrdinalIgnoreCase)).Value;
        var rows = leads.Select(l => (Slot: Column(l, slotColumn), Stratum: string.Join("|", strataColumns.Select(c => Column(l, c) ?? "")), Y: l.Converted ?? 0,
            Half: LeadShard.Of(l.Id, 2))).ToList();
        if (rows.Any(r => r.Slot is null)) throw new ArgumentException($"column '{slotColumn}' is missing from some leads: it must log when each contact happened");
        var slots = rows.Select(r => r.Slot!).Distinct().Order(StringComparer.Ordinal).ToArray();
        int d = slots.Length;
        if (d < 2) throw new ArgumentException($"column '{slotColumn}' has {d} value: no timing to compare");
        var index = slots.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
        var strata = rows.Select(r => r.Stratum).Distinct().ToDictionary(s => s, _ => 0);
        // Propensities from every row: the logging policy's share of each slot within the stratum (a half count where a slot was never used there).
        var counts = strata.Keys.ToDictionary(s => s, _ => new double[d]);
        foreach (var r in rows) counts[r.Stratum][index[r.Slot!]]++;
        var propensity = counts.ToDictionary(kv => kv.Key, kv => kv.Value.Select(c => (c + 0.5) / (kv.Value.Sum() + 0.5 * d)).ToArray());
        // Rates from the fitting half.
        var fit = rows.Where(r => r.Half == 0).ToList();
        var evaluate = rows.Where(r => r.Half == 1).ToList();
        double overall = fit.Average(r => (double)r.Y);
        var rate = strata.Keys.ToDictionary(s => s, s =>
        {
            var mine = fit.Where(r => r.Stratum == s).ToList();
            double stratumRate = (mine.Sum(r => r.Y) + Shrinkage * overall) / (mine.Count + Shrinkage);
            return Enumerable.Range(0, d).Select(j =>
            {
                var cell = mine.Where(r => index[r.Slot!] == j).ToList();
                return (cell.Sum(r => r.Y) + Shrinkage * stratumRate) / (cell.Count + Shrinkage);
            }).ToArray();
        });
        double[] OneHot(int j) => Enumerable.Range(0, d).Select(k => k == j ? 1.0 : 0.0).ToArray();
        PolicyEstimate Value(Func<string, double[]> target, out double unsupported)
        {
            var lists = evaluate.Select(r => LoggedList.Of(propensity[r.Stratum], target(r.Stratum), [index[r.Slot!]], _ => r.Y, rate[r.Stratum])).ToList();
            unsupported = OffPolicy.UnsupportedShare(lists);
            return OffPolicy.DoublyRobust(lists);
        }
        var best = Value(s => OneHot(Array.IndexOf(rate[s], rate[s].Max())), out double bestUnsupported);
        var uniform = Value(_ => Enumerable.Repeat(1.0 / d, d).ToArray(), out _);
        var logged = Statistics.MeanInterval(evaluate.Select(r => (double)r.Y).ToList());
        var perSlot = slots.Select((s, j) =>
        {
            var mine = rows.Where(r => r.Slot == s).ToList();
            var fixedSlot = Value(_ => OneHot(j), out double slotUnsupported);
            return new LoggedSlot(s, mine.Count, mine.Average(r => (double)r.Y), fixedSlot, slotUnsupported);
        }).ToList();
        return new LoggedTimingResult(slotColumn, strataColumns, rows.Count, strata.Count, perSlot, new PolicyEstimate(logged.Mean, logged.Low, logged.High),
            uniform, best, bestUnsupported);
    }
}

/// <summary>One slot value: its logged calls and conversion rate, and the estimated rate had every lead been called then.</summary>
public sealed record LoggedSlot(string Slot, int Calls, double LoggedRate, PolicyEstimate AllCalledThen, double UnsupportedShare);

/// <summary>The estimates of <see cref="LoggedTiming"/>.</summary>
public sealed record LoggedTimingResult(string SlotColumn, IReadOnlyList<string> StrataColumns, int Leads, int Strata, IReadOnlyList<LoggedSlot> Slots,
    PolicyEstimate Logged, PolicyEstimate Uniform, PolicyEstimate BestPerStratum, double BestUnsupportedShare)
{
    /// <summary>The report as Markdown, with what it can and cannot tell.</summary>
    public string Markdown()
    {
        var c = CultureInfo.InvariantCulture;
        string E(PolicyEstimate e) => string.Create(c, $"{e.Value:P2} [{e.Low:P2}, {e.High:P2}]");
        var md = new StringBuilder();
        md.AppendLine(c, $"## Timing from the logs: {Leads} leads, slot = {SlotColumn}, propensities within {Strata} strata of {string.Join(" × ", StrataColumns)}");
        md.AppendLine();
        md.AppendLine(c, $"| {SlotColumn} | calls | logged conversion rate | every lead called then (doubly robust, 95%) | unsupported |");
        md.AppendLine("| --- | ---: | ---: | --- | ---: |");
        foreach (var s in Slots) md.AppendLine(c, $"| {s.Slot} | {s.Calls} | {s.LoggedRate:P2} | {E(s.AllCalledThen)} | {s.UnsupportedShare:P0} |");
        md.AppendLine();
        md.AppendLine(c, $"On the evaluation half: as logged {E(Logged)}; a uniformly random {SlotColumn} {E(Uniform)}; each stratum's best {SlotColumn} " +
            $"(chosen on the other half) {E(BestPerStratum)}, {BestUnsupportedShare:P0} of it where the logs cannot weigh it.");
        md.AppendLine();
        md.AppendLine("What this can tell: whether conversion differs by slot once the strata are held fixed, under the logging policy's estimated propensities. " +
            "What it cannot: the times were chosen by the callers, so anything else that steered both the slot and the outcome biases it; it is conversion, " +
            "not pick-up (no unanswered attempts are logged); and a slot is what the file logs (a weekday here), never an hour.");
        return md.ToString();
    }
}
