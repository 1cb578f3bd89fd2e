namespace LeadEngine.Feedback;

public sealed partial class FeedbackStore
{
    /// <summary>Records what <paramref name="beat"/>'s host serves now (one row per host, replaced each time).</summary>
    public async Task BeatAsync(HostHeartbeat beat, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var upsert = Command(connection, null,
            "INSERT INTO host_heartbeats (host_id, version_id, model_version, seen_at) VALUES (@host, @version, @model, @at) " +
            "ON CONFLICT (host_id) DO UPDATE SET version_id = excluded.version_id, model_version = excluded.model_version, seen_at = excluded.seen_at",
            ("host", beat.HostId), ("version", beat.VersionId), ("model", beat.ModelVersion), ("at", _dialect.Time(beat.SeenAt)));
        await upsert.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>Every host heard from since <paramref name="since"/>, by host id.</summary>
    public async Task<IReadOnlyList<HostHeartbeat>> HeartbeatsAsync(DateTimeOffset since, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null,
            "SELECT host_id, version_id, model_version, seen_at FROM host_heartbeats WHERE seen_at >= @since ORDER BY host_id", ("since", _dialect.Time(since)));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var beats = new List<HostHeartbeat>();
        while (await reader.ReadAsync(cancel))
            beats.Add(new HostHeartbeat(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), _dialect.ReadTime(reader, 3)));
        return beats;
    }
}
