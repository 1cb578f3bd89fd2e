using System.Globalization;

namespace LeadEngine.Learning;

/// <summary>
/// How many calls the reps can make in each hour of the week, in the service's time zone: Monday to Saturday 8:00–20:00 at
/// one rate by default (<c>serve --capacity-per-hour</c>), or per weekday and hour from a file (<c>serve --capacity-file</c>:
/// CSV lines <c>weekday,hour,calls</c>, weekday <c>mon</c>…<c>sun</c>, hour 0–23; hours not named are closed).
/// </summary>
public sealed class CallHours
{
    /// <summary>Calls per hour when none is said: as many as are asked for (the windows then only say when each lead answers best).</summary>
    public const int Unlimited = 1_000_000;

    private readonly int[,] _calls; // [weekday Monday 0, hour]

    private CallHours(int[,] calls) => _calls = calls;

    /// <summary>Monday to Saturday, 8:00–20:00, <paramref name="perHour"/> calls an hour.</summary>
    public static CallHours Weekly(int perHour)
    {
        if (perHour < 1) throw new ArgumentOutOfRangeException(nameof(perHour), "capacity per hour must be at least 1");
        var calls = new int[7, 24];
        for (int d = 0; d < 6; d++)
            for (int h = 8; h < 20; h++) calls[d, h] = perHour;
        return new CallHours(calls);
    }

    private static readonly string[] Days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// <summary>Reads a capacity file; a bad line throws <see cref="FormatException"/> naming the file and line.</summary>
    public static CallHours Read(string path)
    {
        var calls = new int[7, 24];
        var lines = File.ReadAllLines(path);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#') || n == 0 && line.StartsWith("weekday", StringComparison.OrdinalIgnoreCase)) continue;
            var parts = line.Split(',');
            int day = parts.Length == 3 ? Array.IndexOf(Days, parts[0].Trim().ToLowerInvariant()[..Math.Min(3, parts[0].Trim().Length)]) : -1;
            if (day < 0 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int hour) || hour is < 0 or > 23
                || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count < 0)
                throw new FormatException($"{path}:{n + 1}: expected weekday,hour,calls (mon..sun, 0-23, a whole number of calls), got '{line}'");
            calls[day, hour] = count;
        }
        return new CallHours(calls);
    }

    /// <summary>Calls the reps can make in the hour starting at <paramref name="local"/> (the service's time zone).</summary>
    public int At(DateTime local) => _calls[CallSlots.DayIndex(local.DayOfWeek), local.Hour];
}
