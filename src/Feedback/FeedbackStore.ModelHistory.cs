using System.Data.Common;

namespace LeadEngine.Feedback;

/// <summary>
/// The model history: versions with their files, and the promotions and rollbacks that say which one serves. Every
/// host on the store reads the same history, so they all serve the version in force.
/// </summary>
public sealed partial class FeedbackStore
{
    /// <summary>Every version and every change of the one that serves.</summary>
    public async Task<ModelHistory> ModelHistoryAsync(CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        return await ReadModelHistoryAsync(connection, null, cancel);
    }

    private async Task<ModelHistory> ReadModelHistoryAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancel)
    {
        var versions = new List<ModelVersion>();
        using (var query = Command(connection, transaction,
            "SELECT version_id, parent, created_at, status, trained_until, note, content_hash, host FROM model_versions ORDER BY version_id"))
        await using (var reader = await query.ExecuteReaderAsync(cancel))
            while (await reader.ReadAsync(cancel))
                versions.Add(new ModelVersion(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), _dialect.ReadTime(reader, 2),
                    reader.GetString(3), reader.IsDBNull(4) ? null : _dialect.ReadTime(reader, 4), reader.GetString(5), reader.GetString(6), reader.GetString(7)));
        var promotions = new List<ModelPromotion>();
        using (var query = Command(connection, transaction, $"{PromotionColumns} ORDER BY id"))
        await using (var reader = await query.ExecuteReaderAsync(cancel))
            while (await reader.ReadAsync(cancel)) promotions.Add(ReadPromotion(reader));
        return new ModelHistory(versions, promotions);
    }

    private const string PromotionColumns = "SELECT id, version_id, at, action, reason, host FROM model_promotions";

    private ModelPromotion ReadPromotion(DbDataReader reader) => new(Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), _dialect.ReadTime(reader, 2),
        reader.GetString(3), reader.GetString(4), reader.GetString(5));

    /// <summary>The change in force (one small query: what serving hosts poll); null without a history.</summary>
    public async Task<ModelPromotion?> CurrentModelAsync(CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, $"{PromotionColumns} ORDER BY id DESC LIMIT 1");
        await using var reader = await query.ExecuteReaderAsync(cancel);
        return await reader.ReadAsync(cancel) ? ReadPromotion(reader) : null;
    }

    /// <summary>The files of version <paramref name="versionId"/>, by name.</summary>
    public async Task<IReadOnlyList<ModelFile>> ModelFilesAsync(string versionId, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, "SELECT name, content FROM model_files WHERE version_id = @v ORDER BY name", ("v", versionId));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var files = new List<ModelFile>();
        while (await reader.ReadAsync(cancel)) files.Add(new ModelFile(reader.GetString(0), (byte[])reader.GetValue(1)));
        return files;
    }

    /// <summary>
    /// Adds a version with its files in one transaction. A promoted version serves from the commit on, but only if the
    /// version in force is still its parent: when another host changed it meanwhile (a rollback while the candidate
    /// trained), the candidate was judged against a version that no longer serves, so it is stored as rejected, saying so.
    /// Returns the version as stored.
    /// </summary>
    public async Task<ModelVersion> AddModelVersionAsync(ModelVersion version, IReadOnlyList<ModelFile> files, string action, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        if (_dialect.SerialLock(SqlDialect.SerialWork.ModelHistory) is { } lockSql) await ExecuteAsync(connection, transaction, lockSql, cancel);
        var history = await ReadModelHistoryAsync(connection, transaction, cancel);
        if (history.Versions.Any(v => v.Id == version.Id)) throw new FeedbackStoreException($"{Description}: model version {version.Id} exists already");
        string? inForce = history.Current?.VersionId;
        if (version.Status == ModelVersion.Promoted && inForce != version.Parent)
            version = version with
            {
                Status = ModelVersion.Rejected,
                Note = $"{version.Note}; not served: {inForce} was put in force while it trained from {version.Parent}",
            };
        using (var insert = Command(connection, transaction, """
            INSERT INTO model_versions (version_id, parent, created_at, status, trained_until, note, content_hash, host)
            VALUES (@id, @parent, @created, @status, @until, @note, @hash, @host)
            """, ("id", version.Id), ("parent", version.Parent), ("created", _dialect.Time(version.CreatedAt)), ("status", version.Status),
            ("until", version.TrainedUntil is { } until ? _dialect.Time(until) : null), ("note", version.Note), ("hash", version.ContentHash), ("host", version.Host)))
            await insert.ExecuteNonQueryAsync(cancel);
        foreach (var file in files)
        {
            using var insert = Command(connection, transaction, "INSERT INTO model_files (version_id, name, content) VALUES (@v, @name, @content)",
                ("v", version.Id), ("name", file.Name), ("content", file.Content));
            await insert.ExecuteNonQueryAsync(cancel);
        }
        if (version.Status == ModelVersion.Promoted)
            await InsertPromotionAsync(connection, transaction, version.Id, version.CreatedAt, action, version.Note, version.Host, cancel);
        await transaction.CommitAsync(cancel);
        return version;
    }

    /// <summary>
    /// Changes the version that serves, in one transaction with no other history change in between:
    /// <paramref name="choose"/> reads the history and names the version and the reason (or throws to change nothing).
    /// </summary>
    public async Task<ModelPromotion> ChangeModelAsync(Func<ModelHistory, (string VersionId, string Reason)> choose, string action, string host,
        DateTimeOffset at, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        if (_dialect.SerialLock(SqlDialect.SerialWork.ModelHistory) is { } lockSql) await ExecuteAsync(connection, transaction, lockSql, cancel);
        var (versionId, reason) = choose(await ReadModelHistoryAsync(connection, transaction, cancel));
        var promotion = await InsertPromotionAsync(connection, transaction, versionId, at, action, reason, host, cancel);
        await transaction.CommitAsync(cancel);
        return promotion;
    }

    private async Task<ModelPromotion> InsertPromotionAsync(DbConnection connection, DbTransaction transaction, string versionId, DateTimeOffset at,
        string action, string reason, string host, CancellationToken cancel)
    {
        using (var insert = Command(connection, transaction, "INSERT INTO model_promotions (version_id, at, action, reason, host) VALUES (@v, @at, @action, @reason, @host)",
            ("v", versionId), ("at", _dialect.Time(at)), ("action", action), ("reason", reason), ("host", host)))
            await insert.ExecuteNonQueryAsync(cancel);
        using var query = Command(connection, transaction, $"{PromotionColumns} ORDER BY id DESC LIMIT 1");
        await using var reader = await query.ExecuteReaderAsync(cancel);
        await reader.ReadAsync(cancel);
        return ReadPromotion(reader);
    }

    /// <summary>
    /// Takes the store's update lock (one model update at a time, across hosts), or returns null when another process
    /// holds it. Dispose the result to let go; a process that dies lets go too.
    /// </summary>
    public Task<IAsyncDisposable?> TryLockUpdatesAsync(CancellationToken cancel = default) => _dialect.TryLockUpdatesAsync(cancel);
}
