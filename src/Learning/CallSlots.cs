namespace LeadEngine.Learning;

/// <summary>
/// The slots of the week a call can fall in: 7 days (Monday first) × 12 two-hour bands of the lead's local time, 84 in all.
/// Slot s is day s / 12 and band s % 12 (band b runs from 2b to 2b + 2 o'clock). Groups join slots that people's days
/// treat alike (weekday or weekend × morning 6–12, afternoon 12–18, evening 18–22, night): what the pick-up model lets a
/// lead's columns change, where 84 slots each would need far more attempts to learn.
/// </summary>
public static class CallSlots
{
    /// <summary>Hours per band.</summary>
    public const int BandHours = 2;

    /// <summary>Bands per day.</summary>
    public const int BandsPerDay = 24 / BandHours;

    /// <summary>Slots per week.</summary>
    public const int Count = 7 * BandsPerDay;

    /// <summary>Groups of slots (<see cref="Group"/>).</summary>
    public const int Groups = 8;

    private static readonly string[] DayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

    /// <summary>The slot of a local time.</summary>
    public static int Of(DateTime local) => DayIndex(local.DayOfWeek) * BandsPerDay + local.Hour / BandHours;

    /// <summary>The slot of an instant in the lead's local time (UTC plus <paramref name="utcOffset"/>).</summary>
    public static int Of(DateTimeOffset at, TimeSpan utcOffset) => Of(at.UtcDateTime + utcOffset);

    /// <summary>Monday 0 … Sunday 6.</summary>
    public static int DayIndex(DayOfWeek day) => ((int)day + 6) % 7;

    /// <summary>The slot's day, Monday 0.</summary>
    public static int Day(int slot) => slot / BandsPerDay;

    /// <summary>The hour its band starts.</summary>
    public static int StartHour(int slot) => slot % BandsPerDay * BandHours;

    /// <summary>The slot's group: weekend × 4 + part of day (0 morning 6–12, 1 afternoon 12–18, 2 evening 18–22, 3 night).</summary>
    public static int Group(int slot)
    {
        int hour = StartHour(slot);
        int part = hour is >= 6 and < 12 ? 0 : hour is >= 12 and < 18 ? 1 : hour is >= 18 and < 22 ? 2 : 3;
        return (Day(slot) >= 5 ? 4 : 0) + part;
    }

    /// <summary>"Mon 08–10".</summary>
    public static string Name(int slot) => $"{DayNames[Day(slot)]} {StartHour(slot):D2}–{StartHour(slot) + BandHours:D2}";

    /// <summary>The day's name, Monday 0.</summary>
    public static string DayName(int day) => DayNames[day];
}
