using LeadEngine.LeadScoring;
using LeadEngine.Feedback;

namespace LeadEngine.Tests.Serving;

/// <summary>The feedback store on SQLite and, where configured, PostgreSQL: migrations, idempotent events, call-list candidates.</summary>
public sealed class FeedbackStoreTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static Lead NewLead(string id, string channel = "web_form") => new()
    {
        Id = id, CreatedAt = T0.AddDays(-3), Features = [new("channel", channel), new("age", "41")], Dialogue = "Asked about \"financing\", twice.",
    };

    private static ServedScore Score(string id, double p) => new(id, "v1", p, p * 10 - 5, (int)(p * 100), 'C');

    private static Task ScoreLeadsAsync(FeedbackStore store, params string[] ids) =>
        store.RecordScoresAsync(ids.Select((id, i) => (NewLead(id), Score(id, 0.1 + 0.1 * i))).ToList(), T0);

    [PostgresFact]
    public async Task PostgresIsReachable()
    {
        await using var db = await TestDatabases.CreateAsync("postgres");
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        Assert.Null(await store.ProblemAsync());
        Assert.StartsWith("PostgreSQL", store.Description);
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task FreshDatabaseGetsTheLatestSchemaOnce(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using (var store = await FeedbackStore.OpenAsync(db.Target))
        {
            Assert.Equal(FeedbackStore.LatestSchemaVersion, store.SchemaVersion);
            await ScoreLeadsAsync(store, "A");
        }
        await using var again = await FeedbackStore.OpenAsync(db.Target);
        Assert.Equal(FeedbackStore.LatestSchemaVersion, again.SchemaVersion);
        Assert.NotNull(await again.LeadAsync("A"));
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task OldSchemaIsMigratedAndKeepsItsData(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using (var v1 = await FeedbackStore.OpenAsync(db.Target, schemaVersion: 1))
        {
            Assert.Equal(1, v1.SchemaVersion);
            // Rows as version 1 wrote them (this build writes the latest schema's columns).
            await TestDatabases.ExecuteAsync(kind, db.Target, $"""
                INSERT INTO leads (lead_id, fields, first_seen, last_scored, model_version, probability, ranking_score, score, grade) VALUES
                ('A', '{StoredLead.ToJson(NewLead("A"))}', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z', 'v1', 0.1, -4, 10, 'C'),
                ('B', '{StoredLead.ToJson(NewLead("B"))}', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z', 'v1', 0.2, -3, 20, 'C');
                INSERT INTO outcome_events (event_id, lead_id, kind, at, call_seconds, note, received_at) VALUES
                ('e1', 'A', 'responded', '2025-03-01T09:00:00.000000Z', 61.5, 'called back', '2025-03-01T09:00:00.000000Z');
                """);
            // Version 1 has no recommendations table.
            await Assert.ThrowsAnyAsync<Exception>(() => v1.RecordRecommendationsAsync([new Recommendation("l", "A", 1, "p", 1, 0.1, T0)]));
        }
        await using (var v2 = await FeedbackStore.OpenAsync(db.Target, schemaVersion: 2))
        {
            // Version 2 has recommendations but no candidate sets.
            await Assert.ThrowsAnyAsync<Exception>(() => v2.RecordRecommendationsAsync([], [new ListCandidate("l", "A", 0.1, 0.5)]));
        }
        await using var latest = await FeedbackStore.OpenAsync(db.Target);
        Assert.Equal(FeedbackStore.LatestSchemaVersion, latest.SchemaVersion);
        var a = await latest.LeadAsync("A");
        Assert.Equal(new OutcomeEvent("e1", "A", OutcomeKind.Responded, T0, 61.5, "called back"), Assert.Single(a!.Events));
        await latest.RecordRecommendationsAsync([new Recommendation("l", "A", 1, "greedy@v1", 1, 0.1, T0)],
            [new ListCandidate("l", "A", 0.1, 1), new ListCandidate("l", "B", 0.2, 0)]);
        Assert.Equal(1, (await latest.LeadAsync("A"))!.Recommendations);
        Assert.Equal([new ListCandidate("l", "A", 0.1, 1), new ListCandidate("l", "B", 0.2, 0)], await latest.ListCandidatesAsync("l"));
        Assert.Empty(await latest.ListCandidatesAsync("other"));
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task NewerSchemaIsRefused(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await (await FeedbackStore.OpenAsync(db.Target)).DisposeAsync();
        await TestDatabases.ExecuteAsync(kind, db.Target, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (99, 'from the future', " +
            (kind == "sqlite" ? "'2030-01-01T00:00:00.000000Z'" : "now()") + ")");
        var e = await Assert.ThrowsAsync<FeedbackStoreException>(() => FeedbackStore.OpenAsync(db.Target));
        Assert.Contains("schema version 99 is newer", e.Message);
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task ResentEventsAreHarmlessAndReusedIdsAreRefused(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        await ScoreLeadsAsync(store, "A", "B");
        // 100 ns ticks: stored to the microsecond, and a resend with the same time is still the same event.
        var first = new OutcomeEvent("e1", "A", OutcomeKind.Contacted, T0.AddTicks(1234567), 30, null);
        Assert.Equal([EventStatus.Stored], await store.AddEventsAsync([first], T0));
        Assert.Equal([EventStatus.Duplicate, EventStatus.Stored], await store.AddEventsAsync([first, first with { EventId = "e2" }], T0));
        // The same id with other contents: refused, and nothing of that request is stored.
        await Assert.ThrowsAsync<EventConflictException>(() =>
            store.AddEventsAsync([new OutcomeEvent("e3", "B", OutcomeKind.Lost, T0), first with { Kind = OutcomeKind.Converted }], T0));
        var events = await store.EventsAsync();
        Assert.Equal(["e1", "e2"], events.Select(e => e.EventId));
        Assert.Equal(StoredTime.Of(first.At), events[0].At);
        Assert.Equal(T0.AddTicks(1234560), events[0].At);
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task EventsAboutUnknownLeadsAreRefusedWhole(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        await ScoreLeadsAsync(store, "A");
        var e = await Assert.ThrowsAsync<UnknownLeadException>(() =>
            store.AddEventsAsync([new OutcomeEvent("e1", "A", OutcomeKind.Contacted, T0), new OutcomeEvent("e2", "nobody", OutcomeKind.Converted, T0)], T0));
        Assert.Equal("nobody", e.LeadId);
        Assert.Empty(await store.EventsAsync());
    }

    /// <summary>The pool a claim reads, with nothing chosen or recorded.</summary>
    private static async Task<CallPool> PoolAsync(FeedbackStore store, DateTimeOffset since, CallPoolSize? size = null, double windowStart = 0)
    {
        CallPool? read = null;
        await store.ClaimCallListAsync(size ?? CallPoolSize.For(10), since, since, windowStart, (pool, _) =>
        {
            read = pool;
            return Task.FromResult(new CallListClaim([], [], []));
        });
        return read!;
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task CallCandidatesLeaveOutClosedAndRecentlyListedLeads(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        await ScoreLeadsAsync(store, "A", "B", "C", "D", "E");
        await store.AddEventsAsync(
        [
            new OutcomeEvent("e1", "A", OutcomeKind.Converted, T0),
            new OutcomeEvent("e2", "B", OutcomeKind.Lost, T0),
            new OutcomeEvent("e3", "C", OutcomeKind.Ignored, T0),
        ], T0);
        await store.RecordRecommendationsAsync([new Recommendation("list1", "D", 1, "greedy@v1", 1, 0.4, T0.AddHours(2))]);
        var open = await PoolAsync(store, T0.AddHours(1));
        Assert.Equal(["E", "C"], open.Leads.Select(c => c.LastScore.LeadId));
        Assert.Equal(Score("E", 0.5), open.Leads[0].LastScore);
        Assert.True(open.Whole);
        // After the cool-down the listed lead is open again; closed leads never are, even scored again.
        await ScoreLeadsAsync(store, "A", "B");
        Assert.Equal(["E", "D", "C"], (await PoolAsync(store, T0.AddHours(3))).Leads.Select(c => c.LastScore.LeadId));
    }

    /// <summary>
    /// A store written before leads had a call state (schema 6) gets one from its events and lists: closed leads stay out
    /// of the pool, listed ones wait out their cool-down.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task CallStatesAreTakenFromAnOlderStore(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using (var v6 = await FeedbackStore.OpenAsync(db.Target, schemaVersion: 6))
        {
            await TestDatabases.ExecuteAsync(kind, db.Target, """
                INSERT INTO leads (lead_id, fields, first_seen, last_scored, model_version, probability, ranking_score, score, grade) VALUES
                ('A', '{}', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z', 'v1', 0.1, 0, 10, 'C'),
                ('B', '{}', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z', 'v1', 0.2, 0, 20, 'C'),
                ('C', '{}', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z', 'v1', 0.3, 0, 30, 'C');
                INSERT INTO outcome_events (event_id, lead_id, kind, at, received_at) VALUES
                ('e1', 'A', 'lost', '2025-03-01T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z');
                INSERT INTO recommendations (list_id, lead_id, rank, policy_version, propensity, probability, at) VALUES
                ('l', 'B', 1, 'greedy@v1', 1, 0.2, '2025-03-01T11:00:00.000000Z');
                """);
        }
        await using var latest = await FeedbackStore.OpenAsync(db.Target);
        Assert.Equal(["C"], (await PoolAsync(latest, T0.AddHours(1))).Leads.Select(c => c.LastScore.LeadId));
        Assert.Equal(["C", "B"], (await PoolAsync(latest, T0.AddHours(3))).Leads.Select(c => c.LastScore.LeadId));
    }

    /// <summary>
    /// Beyond the head the pool is a window of sampling places, each lead with its exact inclusion: the same whichever window
    /// holds it, summing to the tail's length over all tail leads, and matching the share of evenly spread window starts
    /// that hold it. The head is the best by probability; the estimate of the open leads is near their count.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task ThePoolSamplesTheTailWithKnownInclusion(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        var ids = Enumerable.Range(0, 120).Select(i => $"L{i:D3}").ToArray();
        await store.RecordScoresAsync(ids.Select((id, i) => (NewLead(id), Score(id, (i + 1) / 1000.0))).ToList(), T0);
        var size = new CallPoolSize(20, 8);
        var tailIds = ids[..100];
        var inclusion = new Dictionary<string, double>();
        var hits = tailIds.ToDictionary(id => id, _ => 0);
        const int starts = 400;
        foreach (var (u, onGrid) in tailIds.Select(id => (LeadShard.Position(id), false)).Concat(Enumerable.Range(0, starts).Select(i => ((i + 0.5) / starts, true))))
        {
            var pool = await PoolAsync(store, T0, size, u);
            Assert.False(pool.Whole);
            Assert.Equal(ids[^20..].Reverse(), pool.Leads.Take(20).Select(c => c.LastScore.LeadId));
            Assert.All(pool.Leads.Take(20), c => Assert.Equal(1, c.PoolInclusion));
            var tail = pool.Leads.Skip(20).ToList();
            Assert.Equal(8, tail.Count);
            Assert.InRange(pool.OpenLeads, 20 + 100 * 0.5, 20 + 100 / 0.5); // 8 places: a rough estimate
            foreach (var c in tail)
            {
                if (inclusion.TryGetValue(c.LastScore.LeadId, out double before)) Assert.Equal(before, c.PoolInclusion, 12);
                inclusion[c.LastScore.LeadId] = c.PoolInclusion;
            }
            if (onGrid) foreach (var c in tail) hits[c.LastScore.LeadId]++;
        }
        Assert.Equal(100, inclusion.Count);
        Assert.Equal(8, inclusion.Values.Sum(), 9);
        Assert.All(tailIds, id => Assert.InRange(hits[id] / (double)starts, inclusion[id] - 1.5 / starts, inclusion[id] + 1.5 / starts));
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task LeadsComeBackAsScoredAndRescoringUpdatesThem(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        await ScoreLeadsAsync(store, "A");
        await store.RecordScoresAsync([(NewLead("A", "referral"), Score("A", 0.9) with { ModelVersion = "v2" })], T0.AddDays(1));
        var record = (await store.LeadAsync("A"))!;
        Assert.Equal(T0, record.FirstSeen);
        Assert.Equal(T0.AddDays(1), record.LastScored);
        Assert.Equal("v2", record.LastScore.ModelVersion);
        var lead = StoredLead.FromJson(record.Fields);
        Assert.Equal(NewLead("A", "referral").Features, lead.Features);
        Assert.Equal("Asked about \"financing\", twice.", lead.Dialogue);
        Assert.Equal(T0.AddDays(-3), lead.CreatedAt);
        Assert.Null(await store.LeadAsync("B"));
    }

    /// <summary>
    /// A claim records its candidates many rows to a statement on PostgreSQL: 2,503 candidates (two full statements and a partial
    /// one) come back exactly, with their probabilities and propensities; the listed lead leaves the pool.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task AClaimRecordsEveryCandidateAcrossStatements(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        var ids = Enumerable.Range(0, 2503).Select(i => $"L{i:D4}").ToArray();
        await store.RecordScoresAsync(ids.Select((id, i) => (NewLead(id), Score(id, i / 2503.0))).ToList(), T0);
        var expected = ids.Select((id, i) => new ListCandidate("big", id, i / 2503.0, i % 7 == 0 ? 0.5 : 0.01)).ToList();
        await store.ClaimCallListAsync(new CallPoolSize(3000, 0), T0, T0.AddHours(-20), 0, (pool, _) =>
        {
            Assert.Equal(ids.Length, pool.Leads.Count);
            return Task.FromResult(new CallListClaim([new Recommendation("big", ids[0], 1, "greedy@v1", 1, 0, T0)], expected, []));
        });
        Assert.Equal(expected, await store.ListCandidatesAsync("big"));
        Assert.Equal(ids.Length - 1, (await PoolAsync(store, T0.AddHours(-1), new CallPoolSize(3000, 0))).Leads.Count);
    }

    /// <summary>The learners' start-up read: every scored lead among the ids, with its last probability, over several batches.</summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task SnapshotsReadManyLeadsInBatches(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        var ids = Enumerable.Range(0, 2 * FeedbackStore.SnapshotBatch + 3).Select(i => $"L{i:D4}").ToArray();
        await store.RecordScoresAsync(ids.Select(id => (NewLead(id), Score(id, 0.25))).ToList(), T0);
        await store.RecordScoresAsync([(NewLead(ids[^1], "referral"), Score(ids[^1], 0.75))], T0.AddDays(1));
        var snapshots = await store.LeadSnapshotsAsync([.. ids, "unknown", ids[0]]);
        Assert.Equal(ids, snapshots.Keys.Order(StringComparer.Ordinal));
        Assert.All(ids[..^1], id => Assert.Equal(0.25, snapshots[id].LastProbability));
        Assert.Equal(0.75, snapshots[ids[^1]].LastProbability);
        Assert.Equal((await store.LeadAsync(ids[^1]))!.Fields, snapshots[ids[^1]].Fields);
        Assert.Empty(await store.LeadSnapshotsAsync([]));
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task ConcurrentWritersAllCommit(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        await ScoreLeadsAsync(store, "A", "B");
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++)
                await store.AddEventsAsync([new OutcomeEvent($"w{w}-{i}", i % 2 == 0 ? "A" : "B", OutcomeKind.Contacted, T0.AddMinutes(i))], T0);
        })));
        Assert.Equal(100, (await store.EventsAsync()).Count);
    }
}
