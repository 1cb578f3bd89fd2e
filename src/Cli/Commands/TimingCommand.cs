using System.CommandLine;
using System.Text.Json;
using LeadEngine.Evaluation;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using LeadEngine.Simulation;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine timing</c>: When the store's leads answer: the pick-up model's P(answer) by weekday × hour beside the observed rates and attempts, overall and per segment.</summary>
internal static class TimingCommand
{
    /// <summary>Segments shown at most: a column's most frequent values (the rest count in the overall picture only).</summary>
    public const int MaxSegments = 8;

    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("timing", "When the store's leads answer: the pick-up model's P(answer) by weekday × hour beside the observed rates and attempts, overall and per segment; or, with --data, what timing would have done by a lead file's logged contact times.", Run,
        [Text("db", "the feedback store (SQLite path or PostgreSQL connection string)"),
        Text("data", "instead of --db: a lead file that logs when each contact happened (estimated off-policy, propensities from the data)"),
        Text("slot-column", "with --data: the column of the contact's time slot (default day_of_week)"),
        Text("strata", "with --data: columns that steered when leads were called, comma-separated (default month,contact)"), .. Mapping(),
        Text("segment-column", "a lead column whose values are the segments (e.g. job); default: none"),
        Text("timezone", "IANA time zone of leads without a utc_offset or timezone column (default UTC)"),
        Switch("json", "JSON output"), Text("out", "chart folder (default: beside a SQLite store, else ./timing)")]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        if (a.Optional("data") is { } data)
        {
            var leads = LeadDataReader.Read(data, LeadFileArgs.Funnel(a), requireOutcome: true, columns: LeadFileArgs.Columns(a)).Leads;
            var strata = a.Optional("strata", "month,contact")!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            LoggedTimingResult result;
            try
            {
                result = LoggedTiming.Estimate(leads, a.Optional("slot-column", "day_of_week")!, strata);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"{data}: {e.Message}");
            }
            Console.WriteLine(a.Flag("json") ? JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })
                : result.Markdown());
            return 0;
        }
        string db = a.Optional("db") ?? throw new UsageException("timing needs --db (the store's attempts) or --data (a lead file's logged contact times)");
        string outDir = a.Optional("out") ?? (Feedback.FeedbackStore.IsPostgres(db) ? "timing" : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(db))!, "timing"));
        return RunAsync(db, a.Optional("segment-column"), TimeZone(a), a.Flag("json"), outDir).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string db, string? segmentColumn, TimeZoneInfo zone, bool json, string outDir)
    {
        await using var store = await OpenExistingAsync(db);
        var events = await store.EventsAsync();
        var leads = await store.LeadSnapshotsAsync(events.Where(e => e.Attempt is not null).Select(e => e.LeadId));
        var attempts = PickupAttempts.Of(events, leads, zone);
        if (attempts.Count == 0) throw new UsageException($"{store.Description}: no call attempts yet (feedback events with answered, or contacted/responded/ignored)");
        string? SegmentOf(LeadScoring.Lead lead) => segmentColumn is null ? null
            : lead.Features.FirstOrDefault(f => f.Key.Equals(segmentColumn, StringComparison.OrdinalIgnoreCase)).Value;
        var segments = attempts.Select(x => SegmentOf(x.Lead)).OfType<string>().GroupBy(v => v).OrderByDescending(g => g.Count()).Take(MaxSegments).Select(g => g.Key).ToList();
        double[] Columns(LeadScoring.Lead lead) => segments.Select(s => SegmentOf(lead) == s ? 1.0 : 0.0).ToArray();
        var model = new PickupModel(segments.Count);
        foreach (var (lead, slot, answered) in attempts) model.Observe(Columns(lead), slot, answered);
        var observed = PickupHeatmap.Observed(attempts.Select(x => (x.Slot, x.Answered)));
        var learned = PickupHeatmap.Learned(model, attempts.Select(x => (IReadOnlyList<double>)Columns(x.Lead)).ToList()).Where(observed.Counts);
        ReportCharts.Heatmap(outDir, "timing-heatmap", "Learned P(answer) by weekday × hour", learned.Rates);
        ReportCharts.Heatmap(outDir, "timing-observed", "Observed answer rate and attempts by weekday × hour", observed.Rates, observed.Counts);
        var perSegment = segments.Select((s, i) =>
        {
            var mine = attempts.Where(x => SegmentOf(x.Lead) == s).ToList();
            var seen = PickupHeatmap.Observed(mine.Select(x => (x.Slot, x.Answered)));
            var fitted = PickupHeatmap.Learned(model, [Columns(mine[0].Lead)]).Where(seen.Counts);
            ReportCharts.Heatmap(outDir, $"timing-segment-{i + 1}", $"Learned P(answer), {segmentColumn} = {s}", fitted.Rates, seen.Counts);
            return (Value: s, Attempts: mine.Count, Learned: fitted, Observed: seen);
        }).ToList();
        if (json)
        {
            object Slots(PickupHeatmap fitted, PickupHeatmap seen) => Enumerable.Range(0, CallSlots.Count).Where(s => seen.Counts[CallSlots.Day(s), s % CallSlots.BandsPerDay] > 0)
                .Select(s => new
                {
                    slot = CallSlots.Name(s), day = CallSlots.DayName(CallSlots.Day(s)), hour = CallSlots.StartHour(s),
                    attempts = seen.Counts[CallSlots.Day(s), s % CallSlots.BandsPerDay], observed_rate = seen.Rates[CallSlots.Day(s), s % CallSlots.BandsPerDay],
                    learned = fitted.Rates[CallSlots.Day(s), s % CallSlots.BandsPerDay],
                }).ToList();
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                attempts = attempts.Count, answered = attempts.Count(x => x.Answered), slots = Slots(learned, observed),
                segments = perSegment.Select(p => new { column = segmentColumn, value = p.Value, attempts = p.Attempts, slots = Slots(p.Learned, p.Observed) }),
                charts = outDir,
            }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        }
        Console.WriteLine($"{attempts.Count} call attempts, {attempts.Count(x => x.Answered) / (double)attempts.Count:P1} answered ({store.Description}; leads' clocks, {zone.Id} where a lead has none)");
        string Best(PickupHeatmap fitted) => string.Join(", ", Enumerable.Range(0, CallSlots.Count)
            .Where(s => !double.IsNaN(fitted.Rates[CallSlots.Day(s), s % CallSlots.BandsPerDay]))
            .OrderByDescending(s => fitted.Rates[CallSlots.Day(s), s % CallSlots.BandsPerDay]).Take(3)
            .Select(s => $"{CallSlots.Name(s)} {fitted.Rates[CallSlots.Day(s), s % CallSlots.BandsPerDay]:P0}"));
        Console.WriteLine($"best slots: {Best(learned)}");
        foreach (var p in perSegment) Console.WriteLine($"  {segmentColumn} = {p.Value} ({p.Attempts} attempts): {Best(p.Learned)}");
        Console.WriteLine($"charts: {outDir}/timing-heatmap.png, timing-observed.png" + (perSegment.Count > 0 ? $", timing-segment-1..{perSegment.Count}.png" : ""));
        return 0;
    }
}
