using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>
/// When to call each listed lead: the pick-up model (<see cref="PickupModel"/> over the served model's encoded columns) fitted on
/// the store's call attempts at start and taught each attempt <c>/v1/feedback</c> stores, and the plan of a list's leads into the
/// windows of the horizon that the reps' capacity has room in (<see cref="TimingPlanner"/>: value = the lead's probability ×
/// P(answer), so when capacity is short the likeliest conversions get the windows). Windows are two hours, on even hours of the
/// service's time zone; a lead's slot is the window's start in its own time zone. After no answer the lead's next window avoids
/// the slot of the week that call was made in, unless retries to the same slot are allowed.
/// </summary>
internal sealed class CallTiming(CallTimingOptions options, LeadFeatureEncoder? encoder)
{
    /// <summary>
    /// How long attempts wait before the model takes them in: each change makes the next plan refactor the posterior (cubic in its
    /// width), so while feedback streams in, the lists would pay that every time.
    /// </summary>
    public static readonly TimeSpan LearnEvery = TimeSpan.FromSeconds(30);

    private readonly PickupModel _model = new(encoder?.Width ?? 0);
    private readonly Lock _lock = new();
    private readonly List<(double[] Columns, int Slot, bool Answered)> _pending = [];
    private long _learnedAt = Environment.TickCount64;

    /// <summary>The settings.</summary>
    public CallTimingOptions Options => options;

    /// <summary>Attempts learned, or waiting to be (at most <see cref="LearnEvery"/>).</summary>
    public int Attempts { get { lock (_lock) return _model.Attempts + _pending.Count; } }

    /// <summary>Learns every call attempt the store holds (a restart refits from the store).</summary>
    public async Task FitAsync(FeedbackStore store, CancellationToken cancel)
    {
        await LearnAsync(store, await store.EventsAsync(cancel), cancel);
        lock (_lock) TakeIn();
    }

    /// <summary>Learns the call attempts among events the store has just stored (taken in by the first plan <see cref="LearnEvery"/> after the last).</summary>
    public async Task LearnAsync(FeedbackStore store, IReadOnlyList<OutcomeEvent> stored, CancellationToken cancel)
    {
        var leads = await store.LeadSnapshotsAsync(stored.Where(e => e.Attempt is not null).Select(e => e.LeadId), cancel);
        var attempts = PickupAttempts.Of(stored, leads, options.TimeZone).Select(a => (Columns(a.Lead), a.Slot, a.Answered)).ToList();
        lock (_lock) _pending.AddRange(attempts);
    }

    private void TakeIn()
    {
        foreach (var (columns, slot, answered) in _pending) _model.Observe(columns, slot, answered);
        _pending.Clear();
        _learnedAt = Environment.TickCount64;
    }

    /// <summary>The two-hour windows starting in [<paramref name="from"/>, <paramref name="until"/>) with the room capacity leaves after <paramref name="planned"/>.</summary>
    public IReadOnlyList<(DateTimeOffset Start, int Room)> Windows(DateTimeOffset from, DateTimeOffset until, IReadOnlyDictionary<DateTimeOffset, int> planned)
    {
        var windows = new List<(DateTimeOffset, int)>();
        // The first even hour of the service's clock at or after from.
        var local = TimeZoneInfo.ConvertTime(from, options.TimeZone);
        var start = new DateTimeOffset(local.Year, local.Month, local.Day, local.Hour, 0, 0, local.Offset);
        if (start < from) start = start.AddHours(1);
        if (TimeZoneInfo.ConvertTime(start, options.TimeZone).Hour % CallSlots.BandHours != 0) start = start.AddHours(1);
        for (; start < until; start = start.AddHours(CallSlots.BandHours))
        {
            int room = Enumerable.Range(0, CallSlots.BandHours).Sum(h => options.Hours.At(TimeZoneInfo.ConvertTime(start.AddHours(h), options.TimeZone).DateTime))
                - planned.GetValueOrDefault(start.ToUniversalTime());
            if (room > 0) windows.Add((start.ToUniversalTime(), room));
        }
        return windows;
    }

    /// <summary>
    /// The window of each listed lead (null: no room), with its P(answer) and propensity, over <paramref name="windows"/>.
    /// </summary>
    public IReadOnlyList<CallWindow?> Plan(IReadOnlyList<(Lead Lead, double Probability, DateTimeOffset? LastUnansweredAt)> leads,
        IReadOnlyList<(DateTimeOffset Start, int Room)> windows, Random rng)
    {
        if (windows.Count == 0) return leads.Select(_ => (CallWindow?)null).ToList();
        var columns = leads.Select(l => (IReadOnlyList<double>)Columns(l.Lead)).ToList();
        var slots = leads.Select(l =>
        {
            int? avoid = l.LastUnansweredAt is { } last && !options.RetrySameSlot ? LeadClock.SlotOf(l.Lead, last, options.TimeZone) : null;
            var own = windows.Select(w => LeadClock.SlotOf(l.Lead, w.Start, options.TimeZone)).ToArray();
            // Every window in the avoided slot: another if there is one, else the slot is all there is.
            return own.All(s => s == avoid) ? own : own.Select(s => s == avoid ? -1 : s).ToArray();
        }).ToList();
        TimingPlan plan;
        lock (_lock)
        {
            if (_pending.Count > 0 && Environment.TickCount64 - _learnedAt >= LearnEvery.TotalMilliseconds) TakeIn();
            plan = TimingPlanner.Plan(_model, columns, slots, leads.Select(l => l.Probability).ToList(), windows.Select(w => w.Room).ToList(), options.Exploration, rng);
        }
        return plan.Windows.Select((j, i) => j < 0 ? null : new CallWindow(windows[j].Start, windows[j].Start.AddHours(CallSlots.BandHours),
            plan.Predicted[i][j], plan.Propensities[i][j])).ToList();
    }

    private double[] Columns(Lead lead) => encoder?.Encode(lead) ?? [];
}
