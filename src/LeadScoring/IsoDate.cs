using System.Globalization;
using System.Text.RegularExpressions;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Dates as lead files and the service take them: ISO 8601 with a calendar date (<c>2025-01-02</c>), optionally a
/// time (<c>T</c> or a space, then <c>HH:mm</c>, seconds and up to 12 fraction digits, kept to 100 ns) and an offset (<c>Z</c>, <c>+01:00</c>);
/// without an offset, UTC. Years outside <see cref="MinYear"/>..<see cref="MaxYear"/> are refused as implausible:
/// a lead from year 1 or 9999 is a typing or export error, and it would sort first or last in every time split.
/// </summary>
public static partial class IsoDate
{
    /// <summary>Earliest year taken.</summary>
    public const int MinYear = 1900;

    /// <summary>Latest year taken.</summary>
    public const int MaxYear = 2200;

    /// <summary>The date <paramref name="text"/> names, or null with <paramref name="problem"/> saying why not.</summary>
    public static DateTimeOffset? Parse(string text, out string? problem)
    {
        problem = null;
        text = text.Trim();
        var shape = Shape().Match(text);
        // .NET keeps time to 100 ns (7 fraction digits); Go and Java write 9, and RFC 3339 allows any: cut the rest.
        var fraction = shape.Groups["fraction"];
        string parsed = fraction.Length > 8 ? text.Remove(fraction.Index + 8, fraction.Length - 8) : text;
        if (!shape.Success || !DateTimeOffset.TryParse(parsed, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            problem = $"'{Shorten(text)}' is not an ISO 8601 date (yyyy-MM-dd, optionally with a time and an offset)";
            return null;
        }
        if (date.Year is < MinYear or > MaxYear)
        {
            problem = $"'{text}' is not a plausible ISO 8601 date: years {MinYear}..{MaxYear}";
            return null;
        }
        return date;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(?<fraction>\.\d{1,12})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
