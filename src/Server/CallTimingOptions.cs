using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>When to call (<c>serve</c>: on unless <c>--no-timing</c>): the reps' hours and capacity, the time zone, exploration and retries.</summary>
public sealed record CallTimingOptions
{
    /// <summary>Calls the reps can make per hour of the week (<c>--capacity-per-hour</c>, <c>--capacity-file</c>); by default Monday–Saturday 8–20, as many as asked.</summary>
    public CallHours Hours { get; init; } = CallHours.Weekly(CallHours.Unlimited);
    /// <summary>The reps' time zone, and the leads' where a lead has no <c>utc_offset</c> or <c>timezone</c> column (<c>--timezone</c>, IANA).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;
    /// <summary>Share of the calls put in a random window (what off-policy evaluation of other timings weighs).</summary>
    public double Exploration { get; init; } = 0.1;
    /// <summary>Unanswered attempts after which a lead is closed (<c>--max-attempts</c>).</summary>
    public int MaxUnansweredAttempts { get; init; } = 6;
    /// <summary>Whether a retry after no answer may go to the same slot of the week as the unanswered call (<c>--retry-same-slot</c>).</summary>
    public bool RetrySameSlot { get; init; }
    /// <summary>How far ahead a list's windows reach when the request does not say (<c>until</c>).</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromHours(24);
}
