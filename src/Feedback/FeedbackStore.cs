using System.Data.Common;
using LeadEngine.LeadScoring;

namespace LeadEngine.Feedback;

/// <summary>
/// Where served scores, call-list recommendations and outcome events are kept: SQLite (a file,
/// the default) or PostgreSQL (a connection string, for several hosts). Every method is one
/// transaction and returns only once it is committed, so an acknowledged write survives a kill.
/// Thread-safe: each call takes its own pooled connection.
/// </summary>
public sealed partial class FeedbackStore : IAsyncDisposable
{
    private readonly SqlDialect _dialect;

    private FeedbackStore(SqlDialect dialect, int schemaVersion)
    {
        _dialect = dialect;
        SchemaVersion = schemaVersion;
    }

    /// <summary>True when <paramref name="target"/> names a PostgreSQL database; anything else is a SQLite file path.</summary>
    public static bool IsPostgres(string target) => SqlDialect.IsPostgres(target);

    /// <summary>
    /// False when <paramref name="target"/> is a SQLite file that is not there; a PostgreSQL target is taken to
    /// exist (its server answers for it when opened).
    /// </summary>
    public static bool Exists(string target) => IsPostgres(target) || File.Exists(target);

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestSchemaVersion => Migrations.All[^1].Version;

    /// <summary>The database's schema version after opening.</summary>
    public int SchemaVersion { get; }

    /// <summary>The database kind and where it is.</summary>
    public string Description => _dialect.Description;

    /// <summary>
    /// Opens the store at <paramref name="target"/> (a PostgreSQL connection string or URI, else a
    /// SQLite file path) and brings its schema up to <paramref name="schemaVersion"/> (default: the
    /// latest). A database with a newer schema than this build is refused.
    /// </summary>
    /// <param name="target">A PostgreSQL connection string, else a SQLite file path.</param>
    /// <param name="schemaVersion">The schema version to migrate to (default: the latest).</param>
    /// <param name="cancel">Cancels the opening.</param>
    /// <param name="create">Whether a missing SQLite file may be created (with its folder); false refuses it.</param>
    public static async Task<FeedbackStore> OpenAsync(string target, int? schemaVersion = null, CancellationToken cancel = default, bool create = true)
    {
        if (!create && !Exists(target)) throw new FeedbackStoreException($"{target}: no feedback store there, and it is not to be created");
        var dialect = SqlDialect.For(target);
        int wanted = schemaVersion ?? LatestSchemaVersion;
        if (dialect is SqlDialect.Sqlite sqlite) sqlite.MayCreate = create;
        try
        {
            int version = await MigrateAsync(dialect, wanted, cancel);
            return new FeedbackStore(dialect, version);
        }
        catch (DbException e)
        {
            throw new FeedbackStoreException($"{dialect.Description}: {e.Message}", e);
        }
        finally
        {
            if (dialect is SqlDialect.Sqlite opened) opened.MayCreate = false;
        }
    }

    private static async Task<int> MigrateAsync(SqlDialect dialect, int wanted, CancellationToken cancel)
    {
        await using var connection = await dialect.OpenAsync(cancel);
        await ExecuteAsync(connection, null, dialect.Sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at {time} NOT NULL)"), cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        if (dialect.MigrationLock is { } lockSql) await ExecuteAsync(connection, transaction, lockSql, cancel);
        int current;
        using (var query = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            current = Convert.ToInt32(await query.ExecuteScalarAsync(cancel));
        if (current > LatestSchemaVersion)
            throw new FeedbackStoreException($"{dialect.Description}: schema version {current} is newer than this LeadEngine knows ({LatestSchemaVersion}); upgrade LeadEngine");
        foreach (var step in Migrations.All.Where(s => s.Version > current && s.Version <= wanted))
        {
            await ExecuteAsync(connection, transaction, dialect.Sql(step.Sql), cancel);
            using var record = Command(connection, transaction, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (@v, @d, @t)",
                ("v", step.Version), ("d", step.Description), ("t", dialect.Time(DateTimeOffset.UtcNow)));
            await record.ExecuteNonQueryAsync(cancel);
            current = step.Version;
        }
        await transaction.CommitAsync(cancel);
        return current;
    }

    /// <summary>
    /// Why the store cannot take writes now, or null when it can: it opens a connection (a missing SQLite file
    /// fails here), begins a write transaction (SQLite takes its write lock) and rolls it back.
    /// </summary>
    public async Task<string?> ProblemAsync(CancellationToken cancel = default)
    {
        try
        {
            await using var connection = await _dialect.OpenAsync(cancel);
            await using var transaction = await connection.BeginTransactionAsync(cancel);
            using var ping = Command(connection, transaction, "SELECT 1");
            await ping.ExecuteScalarAsync(cancel);
            await transaction.RollbackAsync(cancel);
            return null;
        }
        catch (Exception e) when (e is DbException or FeedbackStoreException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Records scores as served: each lead's columns and latest score (a lead scored again is
    /// updated) and one row per score in the score history.
    /// </summary>
    public async Task RecordScoresAsync(IReadOnlyList<(Lead Lead, ServedScore Score)> scored, DateTimeOffset at, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await WriteScoresAsync(connection, transaction, scored, at, cancel);
        await transaction.CommitAsync(cancel);
    }

    private async Task WriteScoresAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<(Lead Lead, ServedScore Score)> scored,
        DateTimeOffset at, CancellationToken cancel)
    {
        object time = _dialect.Time(at);
        foreach (var (lead, score) in scored)
        {
            var values = ScoreParameters(score).Append(("t", time)).ToArray();
            // A new lead is callable, at its sampling place; scoring a known lead again changes neither.
            using (var upsert = Command(connection, transaction, """
                INSERT INTO leads (lead_id, fields, first_seen, last_scored, model_version, probability, ranking_score, score, grade, sample_key)
                VALUES (@lead, @fields, @t, @t, @version, @p, @r, @s, @g, @place)
                ON CONFLICT (lead_id) DO UPDATE SET fields = excluded.fields, last_scored = excluded.last_scored,
                    model_version = excluded.model_version, probability = excluded.probability, ranking_score = excluded.ranking_score,
                    score = excluded.score, grade = excluded.grade
                """, [.. values, ("fields", StoredLead.ToJson(lead)), ("place", LeadShard.Position(score.LeadId))]))
                await upsert.ExecuteNonQueryAsync(cancel);
            using var history = Command(connection, transaction, """
                INSERT INTO scores (lead_id, at, model_version, probability, ranking_score, score, grade)
                VALUES (@lead, @t, @version, @p, @r, @s, @g)
                """, values);
            await history.ExecuteNonQueryAsync(cancel);
        }
    }

    private static IEnumerable<(string, object?)> ScoreParameters(ServedScore s) =>
        [("lead", s.LeadId), ("version", s.ModelVersion), ("p", s.Probability), ("r", s.RankingScore), ("s", s.Score), ("g", s.Grade.ToString())];

    /// <summary>
    /// Stores outcome events, all or none. An event whose id is already stored with the same
    /// contents is a <see cref="EventStatus.Duplicate"/>; with other contents it throws
    /// <see cref="EventConflictException"/>; an event about a lead never scored throws
    /// <see cref="UnknownLeadException"/>. Returns once committed.
    /// </summary>
    /// <param name="events">The events, stored all or none.</param>
    /// <param name="receivedAt">When they arrived.</param>
    /// <param name="cancel">Cancels before the commit.</param>
    /// <param name="closeAfterUnanswered">When given, a lead with this many unanswered call attempts is closed: no list offers it again.</param>
    public async Task<IReadOnlyList<EventStatus>> AddEventsAsync(IReadOnlyList<OutcomeEvent> events, DateTimeOffset receivedAt, CancellationToken cancel = default,
        int? closeAfterUnanswered = null)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        var statuses = new List<EventStatus>(events.Count);
        var knownLeads = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in events)
        {
            var e = raw.Normalized();
            if (!knownLeads.Contains(e.LeadId))
            {
                using var exists = Command(connection, transaction, "SELECT COUNT(*) FROM leads WHERE lead_id = @lead", ("lead", e.LeadId));
                if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancel)) == 0) throw new UnknownLeadException(e.LeadId);
                knownLeads.Add(e.LeadId);
            }
            using var insert = Command(connection, transaction, """
                INSERT INTO outcome_events (event_id, lead_id, kind, at, call_seconds, note, received_at, answered)
                VALUES (@id, @lead, @kind, @at, @call, @note, @received, @answered)
                ON CONFLICT (event_id) DO NOTHING
                """, ("id", e.EventId), ("lead", e.LeadId), ("kind", e.Kind.Name()), ("at", _dialect.Time(e.At)), ("call", e.CallSeconds),
                ("note", e.Note), ("received", _dialect.Time(receivedAt)), ("answered", e.Answered is { } a ? (a ? 1 : 0) : null));
            if (await insert.ExecuteNonQueryAsync(cancel) == 1)
            {
                if (e.Kind.IsFinal())
                {
                    using var close = Command(connection, transaction, "UPDATE leads SET call_state = 2 WHERE lead_id = @lead", ("lead", e.LeadId));
                    await close.ExecuteNonQueryAsync(cancel);
                }
                else if (e.Attempt == false && closeAfterUnanswered is { } most)
                {
                    using var exhausted = Command(connection, transaction, $"""
                        UPDATE leads SET call_state = 2 WHERE lead_id = @lead AND call_state <> 2
                            AND (SELECT COUNT(*) FROM outcome_events e WHERE e.lead_id = @lead AND {Unanswered}) >= @most
                        """, ("lead", e.LeadId), ("most", most));
                    await exhausted.ExecuteNonQueryAsync(cancel);
                }
                statuses.Add(EventStatus.Stored);
                continue;
            }
            var stored = (await ReadEventsAsync(connection, transaction, "event_id = @id", ("id", e.EventId), cancel)).Single();
            if (stored != e) throw new EventConflictException(e.EventId);
            statuses.Add(EventStatus.Duplicate);
        }
        await transaction.CommitAsync(cancel);
        return statuses;
    }

    /// <summary>
    /// Records a call list in one transaction: the leads handed out (on a list from then: out of the pool until the
    /// cool-down ends) and, when given, the leads it was chosen from with their propensities.
    /// </summary>
    public async Task RecordRecommendationsAsync(IReadOnlyList<Recommendation> recommendations, IReadOnlyList<ListCandidate>? candidates = null,
        CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await InsertListAsync(connection, transaction, recommendations, candidates ?? [], cancel);
        await transaction.CommitAsync(cancel);
    }

    /// <summary>
    /// Claims a call list: in one transaction that no other claim interleaves with, on this host or any other on
    /// the database (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write lock its transactions take
    /// at BEGIN), gives back to the pool the leads listed before <paramref name="recommendedSince"/>, reads the pool
    /// (<see cref="CallPool"/>: <paramref name="size"/>, the tail's window from <paramref name="windowStart"/> in [0, 1)),
    /// with the calls already planned per window starting in <paramref name="horizon"/> when asked (<see cref="CallPool.Planned"/>),
    /// lets <paramref name="choose"/> pick among it, and records its rescored leads (as scored <paramref name="at"/>), its list and its candidates
    /// before the next claim reads. A lead is therefore on at most one list within the cool-down, and the propensities
    /// are those of a choice among the leads really open. Rows read and written: O(pool + K), whatever the open leads.
    /// </summary>
    public async Task ClaimCallListAsync(CallPoolSize size, DateTimeOffset at, DateTimeOffset recommendedSince, double windowStart,
        Func<CallPool, CancellationToken, Task<CallListClaim>> choose, CancellationToken cancel = default, (DateTimeOffset From, DateTimeOffset Until)? horizon = null)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        if (_dialect.SerialLock(SqlDialect.SerialWork.CallListClaim) is { } lockSql) await ExecuteAsync(connection, transaction, lockSql, cancel);
        using (var release = Command(connection, transaction, "UPDATE leads SET call_state = 0 WHERE call_state = 1 AND listed_at < @since",
            ("since", _dialect.Time(recommendedSince))))
            await release.ExecuteNonQueryAsync(cancel);
        var pool = await ReadPoolAsync(connection, transaction, size, windowStart, lastUnanswered: horizon is not null, cancel);
        if (horizon is { } h) pool = pool with { Planned = await PlannedAsync(connection, transaction, h.From, h.Until, cancel) };
        var claim = await choose(pool, cancel);
        await WriteScoresAsync(connection, transaction, claim.Rescored, at, cancel);
        await InsertListAsync(connection, transaction, claim.Chosen, claim.Candidates, cancel);
        await transaction.CommitAsync(cancel);
    }

    /// <summary>Calls planned per window start in [<paramref name="from"/>, <paramref name="until"/>): an index range scan of the planned windows.</summary>
    private async Task<IReadOnlyDictionary<DateTimeOffset, int>> PlannedAsync(DbConnection connection, DbTransaction transaction, DateTimeOffset from,
        DateTimeOffset until, CancellationToken cancel)
    {
        using var query = Command(connection, transaction, """
            SELECT window_start, COUNT(*) FROM recommendations WHERE window_start IS NOT NULL AND window_start >= @from AND window_start < @until GROUP BY window_start
            """, ("from", _dialect.Time(from)), ("until", _dialect.Time(until)));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var planned = new Dictionary<DateTimeOffset, int>();
        while (await reader.ReadAsync(cancel)) planned[_dialect.ReadTime(reader, 0)] = Convert.ToInt32(reader.GetValue(1));
        return planned;
    }

    private const string PoolColumns = "lead_id, fields, model_version, probability, ranking_score, score, grade, sample_key";

    /// <summary>A pool lead's last unanswered attempt: a subquery per row, so read only where windows are planned, and only for leads that can be listed.</summary>
    private const string LastUnansweredColumn = $"(SELECT MAX(e.at) FROM outcome_events e WHERE e.lead_id = leads.lead_id AND {Unanswered})";

    /// <summary>An unanswered call attempt (<see cref="OutcomeEvent.Attempt"/> false): said so, or an <c>ignored</c> that did not say.</summary>
    private const string Unanswered = "(e.answered = 0 OR (e.answered IS NULL AND e.kind = 'ignored'))";

    /// <summary>The pool (see <see cref="CallPool"/>): each read is an ordered scan of a partial index over the callable leads that stops at its limit.</summary>
    private async Task<CallPool> ReadPoolAsync(DbConnection connection, DbTransaction transaction, CallPoolSize size, double windowStart, bool lastUnanswered,
        CancellationToken cancel)
    {
        var head = await ReadPoolLeadsAsync(connection, transaction, "", "probability DESC, lead_id", size.Head, [], lastUnanswered, cancel);
        if (head.Count < size.Head || size.Tail == 0) return new CallPool(head.Select(h => h.Candidate).ToList(), head.Count);
        // The tail: callable leads after the head's last in its order.
        var last = head[^1].Candidate.LastScore;
        const string belowHead = "AND (probability < @p OR (probability = @p AND lead_id > @id))";
        (string, object?)[] bound = [("p", last.Probability), ("id", last.LeadId), ("u", windowStart)];
        async Task<List<(CallCandidate Candidate, double Place)>> Circle(string fromStart, string wrapped, string order, int count, bool withAttempts)
        {
            var read = await ReadPoolLeadsAsync(connection, transaction, $"{belowHead} AND {fromStart}", order, count, bound, withAttempts, cancel);
            if (read.Count < count)
                read.AddRange(await ReadPoolLeadsAsync(connection, transaction, $"{belowHead} AND {wrapped}", order, count - read.Count, bound, withAttempts, cancel));
            return read;
        }
        // The window: the first Tail places at or after the start, going round past 1.
        var window = await Circle("sample_key >= @u", "sample_key < @u", "sample_key, lead_id", size.Tail, lastUnanswered);
        if (window.Count < size.Tail)
            return new CallPool([.. head.Select(h => h.Candidate), .. window.Select(w => w.Candidate)], head.Count + window.Count);
        // A lead is in the window when the start falls after the place of its Tail-th predecessor on the circle and not after its own:
        // the Tail places before the start (going round) give each window lead's predecessor.
        var before = await Circle("sample_key < @u", "sample_key >= @u", "sample_key DESC, lead_id DESC", size.Tail, withAttempts: false);
        var tail = window.Select((w, j) =>
        {
            var predecessor = before[size.Tail - 1 - j];
            double arc = predecessor.Candidate.LastScore.LeadId == w.Candidate.LastScore.LeadId ? 1 : ((w.Place - predecessor.Place) % 1 + 1) % 1;
            return w.Candidate with { PoolInclusion = arc };
        }).ToList();
        int tailLeads = (int)Math.Round(tail.Count / tail.Average(t => t.PoolInclusion));
        return new CallPool([.. head.Select(h => h.Candidate), .. tail], head.Count + tailLeads);
    }

    private async Task<List<(CallCandidate Candidate, double Place)>> ReadPoolLeadsAsync(DbConnection connection, DbTransaction transaction, string where,
        string order, int limit, (string, object?)[] parameters, bool lastUnanswered, CancellationToken cancel)
    {
        string columns = lastUnanswered ? $"{PoolColumns}, {LastUnansweredColumn}" : PoolColumns;
        using var query = Command(connection, transaction, $"SELECT {columns} FROM leads WHERE call_state = 0 {where} ORDER BY {order} LIMIT @limit",
            [.. parameters, ("limit", limit)]);
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var leads = new List<(CallCandidate, double)>();
        while (await reader.ReadAsync(cancel))
            leads.Add((new CallCandidate(reader.GetString(1), ReadScore(reader, 0, 2),
                LastUnansweredAt: lastUnanswered && !reader.IsDBNull(8) ? _dialect.ReadTime(reader, 8) : null), reader.GetDouble(7)));
        return leads;
    }

    private async Task InsertListAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Recommendation> recommendations,
        IReadOnlyList<ListCandidate> candidates, CancellationToken cancel)
    {
        var time = _dialect.Time(DateTimeOffset.UnixEpoch).GetType();
        await InsertRowsAsync(connection, transaction, "recommendations",
            [("list_id", typeof(string)), ("lead_id", typeof(string)), ("rank", typeof(int)), ("policy_version", typeof(string)), ("propensity", typeof(double)),
                ("probability", typeof(double)), ("at", time), ("window_start", time), ("window_end", time), ("p_answer", typeof(double)), ("window_propensity", typeof(double))],
            recommendations.Select(r => new object?[] { r.ListId, r.LeadId, r.Rank, r.PolicyVersion, r.Propensity, r.Probability, _dialect.Time(r.At),
                r.Window is { } w ? _dialect.Time(w.Start) : null, r.Window is { } e ? _dialect.Time(e.End) : null, r.Window?.PAnswer, r.Window?.Propensity }).ToList(), cancel);
        // Listed leads leave the pool until the cool-down ends (a closed one stays closed; a later listing is kept).
        foreach (var (at, leads) in recommendations.GroupBy(r => r.At).Select(g => (g.Key, g.Select(r => r.LeadId).Distinct().ToArray())))
            foreach (var chunk in leads.Chunk(SnapshotBatch))
            {
                using var listed = Command(connection, transaction, $"""
                    UPDATE leads SET call_state = 1, listed_at = @at
                    WHERE lead_id IN ({string.Join(", ", chunk.Select((_, i) => $"@id{i}"))}) AND call_state <> 2 AND (listed_at IS NULL OR listed_at < @at)
                    """, [("at", _dialect.Time(at)), .. chunk.Select((id, i) => ($"id{i}", (object?)id))]);
                await listed.ExecuteNonQueryAsync(cancel);
            }
        await InsertRowsAsync(connection, transaction, "list_candidates",
            [("list_id", typeof(string)), ("lead_id", typeof(string)), ("probability", typeof(double)), ("propensity", typeof(double))],
            candidates.Select(c => new object?[] { c.ListId, c.LeadId, c.Probability, c.Propensity }).ToList(), cancel);
    }

    /// <summary>
    /// Inserts <paramref name="rows"/> into <paramref name="table"/>: on PostgreSQL one statement with an array per column (a round trip per
    /// row was 8 s for 50,000 candidates, a multi-row VALUES of 720 rows 20 ms to parse), on SQLite one prepared statement reused per row.
    /// </summary>
    private async Task InsertRowsAsync(DbConnection connection, DbTransaction transaction, string table, (string Name, Type Type)[] columns,
        IReadOnlyList<object?[]> rows, CancellationToken cancel)
    {
        if (rows.Count == 0) return;
        string names = string.Join(", ", columns.Select(c => c.Name));
        if (_dialect.InsertsArrays)
        {
            using var insert = Command(connection, transaction, $"INSERT INTO {table} ({names}) SELECT * FROM unnest({string.Join(", ", columns.Select((_, c) => $"@c{c}"))})",
                [.. columns.Select((column, c) => ($"c{c}", (object?)ColumnArray(rows, c, column.Type)))]);
            await insert.ExecuteNonQueryAsync(cancel);
            return;
        }
        using var row = Command(connection, transaction, $"INSERT INTO {table} ({names}) VALUES ({string.Join(", ", columns.Select((_, c) => $"@c{c}"))})",
            [.. columns.Select((_, c) => ($"c{c}", (object?)null))]);
        foreach (var values in rows)
        {
            for (int c = 0; c < columns.Length; c++) row.Parameters[c].Value = values[c] ?? DBNull.Value;
            await row.ExecuteNonQueryAsync(cancel);
        }
    }

    /// <summary>Column <paramref name="c"/> of <paramref name="rows"/> as an array of <paramref name="type"/> (nullable for a value type: what PostgreSQL binds as that type's array).</summary>
    private static Array ColumnArray(IReadOnlyList<object?[]> rows, int c, Type type)
    {
        var column = Array.CreateInstance(type.IsValueType && rows.Any(r => r[c] is null) ? typeof(Nullable<>).MakeGenericType(type) : type, rows.Count);
        for (int i = 0; i < rows.Count; i++) column.SetValue(rows[i][c], i);
        return column;
    }

    /// <summary>The open leads call list <paramref name="listId"/> was chosen from, by lead id.</summary>
    public async Task<IReadOnlyList<ListCandidate>> ListCandidatesAsync(string listId, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, "SELECT lead_id, probability, propensity FROM list_candidates WHERE list_id = @list ORDER BY lead_id",
            ("list", listId));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var candidates = new List<ListCandidate>();
        while (await reader.ReadAsync(cancel)) candidates.Add(new ListCandidate(listId, reader.GetString(0), reader.GetDouble(1), reader.GetDouble(2)));
        return candidates;
    }

    /// <summary>The lead, its latest score, its events and how often it was recommended; null when never scored.</summary>
    public async Task<LeadRecord?> LeadAsync(string leadId, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        string fields;
        DateTimeOffset firstSeen, lastScored;
        ServedScore score;
        using (var query = Command(connection, null, """
            SELECT lead_id, fields, model_version, probability, ranking_score, score, grade, first_seen, last_scored FROM leads WHERE lead_id = @lead
            """, ("lead", leadId)))
        await using (var reader = await query.ExecuteReaderAsync(cancel))
        {
            if (!await reader.ReadAsync(cancel)) return null;
            fields = reader.GetString(1);
            score = ReadScore(reader, 0, 2);
            firstSeen = _dialect.ReadTime(reader, 7);
            lastScored = _dialect.ReadTime(reader, 8);
        }
        var events = await ReadEventsAsync(connection, null, "lead_id = @lead", ("lead", leadId), cancel);
        using var listings = Command(connection, null, $"SELECT {RecommendationColumns} FROM recommendations WHERE lead_id = @lead ORDER BY at, list_id", ("lead", leadId));
        await using var rows = await listings.ExecuteReaderAsync(cancel);
        var listed = new List<Recommendation>();
        while (await rows.ReadAsync(cancel)) listed.Add(ReadRecommendation(rows));
        return new LeadRecord(leadId, fields, firstSeen, lastScored, score, events, listed.Count, [.. listed.Where(r => r.Window is not null).Select(r => r.Window!)]);
    }

    /// <summary>Most lead ids one <see cref="LeadSnapshotsAsync"/> query names (well under SQLite's and PostgreSQL's parameter limits).</summary>
    public const int SnapshotBatch = 500;

    /// <summary>
    /// The fields and last served probability of each of <paramref name="leadIds"/> that was ever scored (others are absent),
    /// in one query per <see cref="SnapshotBatch"/> ids: what the learners need at start-up, without a query per lead.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, LeadSnapshot>> LeadSnapshotsAsync(IEnumerable<string> leadIds, CancellationToken cancel = default)
    {
        var snapshots = new Dictionary<string, LeadSnapshot>(StringComparer.Ordinal);
        var ids = leadIds.Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) return snapshots; // feedback without final outcomes, lists already read: no connection
        await using var connection = await _dialect.OpenAsync(cancel);
        foreach (var batch in ids.Chunk(SnapshotBatch))
        {
            var names = batch.Select((_, i) => $"id{i}").ToArray();
            using var query = Command(connection, null, $"SELECT lead_id, fields, probability FROM leads WHERE lead_id IN ({string.Join(", ", names.Select(n => "@" + n))})",
                names.Zip(batch, (n, id) => (n, (object?)id)).ToArray());
            await using var reader = await query.ExecuteReaderAsync(cancel);
            while (await reader.ReadAsync(cancel))
                snapshots[reader.GetString(0)] = new LeadSnapshot(reader.GetString(0), reader.GetString(1), reader.GetDouble(2));
        }
        return snapshots;
    }

    /// <summary>The scores served in [<paramref name="from"/>, <paramref name="until"/>): lead, probability and time, by time.</summary>
    public async Task<IReadOnlyList<(string LeadId, double Probability, DateTimeOffset At)>> ScoresAsync(DateTimeOffset from, DateTimeOffset until,
        CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, "SELECT lead_id, probability, at FROM scores WHERE at >= @from AND at < @until ORDER BY at, id",
            ("from", _dialect.Time(from)), ("until", _dialect.Time(until)));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var scores = new List<(string, double, DateTimeOffset)>();
        while (await reader.ReadAsync(cancel)) scores.Add((reader.GetString(0), reader.GetDouble(1), _dialect.ReadTime(reader, 2)));
        return scores;
    }

    /// <summary>Every recommendation, by time, list and rank (what the learner joins outcomes to).</summary>
    public async Task<IReadOnlyList<Recommendation>> RecommendationsAsync(CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null,
            $"SELECT {RecommendationColumns} FROM recommendations ORDER BY at, list_id, rank");
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var recommendations = new List<Recommendation>();
        while (await reader.ReadAsync(cancel)) recommendations.Add(ReadRecommendation(reader));
        return recommendations;
    }

    private const string RecommendationColumns = "list_id, lead_id, rank, policy_version, propensity, probability, at, window_start, window_end, p_answer, window_propensity";

    private Recommendation ReadRecommendation(DbDataReader reader) => new(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2)),
        reader.GetString(3), reader.GetDouble(4), reader.GetDouble(5), _dialect.ReadTime(reader, 6),
        reader.IsDBNull(7) ? null : new CallWindow(_dialect.ReadTime(reader, 7), _dialect.ReadTime(reader, 8), reader.GetDouble(9), reader.GetDouble(10)));

    /// <summary>Every outcome event, by time then id (what the learner reads).</summary>
    public async Task<IReadOnlyList<OutcomeEvent>> EventsAsync(CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        return await ReadEventsAsync(connection, null, "1 = 1", null, cancel);
    }

    private async Task<IReadOnlyList<OutcomeEvent>> ReadEventsAsync(DbConnection connection, DbTransaction? transaction, string where,
        (string, object?)? parameter, CancellationToken cancel)
    {
        using var query = Command(connection, transaction,
            $"SELECT event_id, lead_id, kind, at, call_seconds, note, answered FROM outcome_events WHERE {where} ORDER BY at, event_id",
            parameter is { } p ? [p] : []);
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var events = new List<OutcomeEvent>();
        while (await reader.ReadAsync(cancel))
        {
            if (!OutcomeKinds.TryParse(reader.GetString(2), out var kind))
                throw new FeedbackStoreException($"{Description}: event '{reader.GetString(0)}' has unknown kind '{reader.GetString(2)}'");
            events.Add(new OutcomeEvent(reader.GetString(0), reader.GetString(1), kind, _dialect.ReadTime(reader, 3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : Convert.ToInt32(reader.GetValue(6)) == 1));
        }
        return events;
    }

    /// <summary>A score from columns lead_id at <paramref name="idColumn"/> and model_version … grade from <paramref name="first"/> on.</summary>
    private static ServedScore ReadScore(DbDataReader reader, int idColumn, int first) => new(
        reader.GetString(idColumn), reader.GetString(first), reader.GetDouble(first + 1), reader.GetDouble(first + 2),
        Convert.ToInt32(reader.GetValue(first + 3)), reader.GetString(first + 4)[0]);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancel)
    {
        using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancel);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dialect.DisposeAsync();
}
