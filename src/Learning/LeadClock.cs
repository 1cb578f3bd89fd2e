using System.Globalization;
using LeadEngine.LeadScoring;

namespace LeadEngine.Learning;

/// <summary>
/// A lead's local time: from its <c>utc_offset</c> column (<c>+02:00</c>, <c>-5</c>, <c>5.5</c> hours) or its <c>timezone</c> column (an IANA
/// name such as <c>Europe/Lisbon</c>, daylight saving included), else the service's time zone.
/// </summary>
public static class LeadClock
{
    /// <summary>The lead's UTC offset at <paramref name="at"/>.</summary>
    public static TimeSpan OffsetAt(Lead lead, DateTimeOffset at, TimeZoneInfo fallback)
    {
        foreach (var (name, value) in lead.Features)
        {
            if (name.Equals("utc_offset", StringComparison.OrdinalIgnoreCase) && ParseOffset(value) is { } offset) return offset;
            if (name.Equals("timezone", StringComparison.OrdinalIgnoreCase) && TimeZoneInfo.TryFindSystemTimeZoneById(value.Trim(), out var zone))
                return zone.GetUtcOffset(at);
        }
        return fallback.GetUtcOffset(at);
    }

    /// <summary>The slot of the week <paramref name="at"/> falls in for the lead.</summary>
    public static int SlotOf(Lead lead, DateTimeOffset at, TimeZoneInfo fallback) => CallSlots.Of(at, OffsetAt(lead, at, fallback));

    private static TimeSpan? ParseOffset(string text)
    {
        text = text.Trim();
        bool negative = text.StartsWith('-');
        if (TimeSpan.TryParseExact(text.TrimStart('+', '-'), @"hh\:mm", CultureInfo.InvariantCulture, out var hm)) return negative ? -hm : hm;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double hours) && Math.Abs(hours) <= 14 ? TimeSpan.FromHours(hours) : null;
    }
}
