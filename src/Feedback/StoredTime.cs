namespace LeadEngine.Feedback;

/// <summary>Times as the store keeps them: UTC, whole microseconds (PostgreSQL's resolution).</summary>
public static class StoredTime
{
    /// <summary><paramref name="time"/> in UTC, cut to whole microseconds.</summary>
    public static DateTimeOffset Of(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % 10, TimeSpan.Zero);
    }
}
