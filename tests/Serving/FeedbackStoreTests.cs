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
            await ScoreLeadsAsync(v1, "A", "B");
            await v1.AddEventsAsync([new OutcomeEvent("e1", "A", OutcomeKind.Responded, T0, 61.5, "called back")], T0);
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
        var open = await store.CallCandidatesAsync(T0.AddHours(1));
        Assert.Equal(["C", "E"], open.Select(c => c.LastScore.LeadId));
        Assert.Equal(Score("E", 0.5), open[1].LastScore);
        // After the cool-down the listed lead is open again; closed leads never are.
        Assert.Equal(["C", "D", "E"], (await store.CallCandidatesAsync(T0.AddHours(3))).Select(c => c.LastScore.LeadId));
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
    /// A claim records every open lead as a candidate, many rows to a statement on PostgreSQL: 2,503 candidates (two full
    /// statements and a partial one) come back exactly, with their probabilities and propensities.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task AClaimRecordsEveryCandidateAcrossStatements(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        var ids = Enumerable.Range(0, 2503).Select(i => $"L{i:D4}").ToArray();
        await store.RecordScoresAsync(ids.Select((id, i) => (NewLead(id), Score(id, i / 2503.0))).ToList(), T0);
        var expected = ids.Select((id, i) => new ListCandidate("big", id, i / 2503.0, i % 7 == 0 ? 0.5 : 0.01)).ToList();
        await store.ClaimCallListAsync(T0.AddHours(-20), open =>
        {
            Assert.Equal(ids.Length, open.Count);
            return ([new Recommendation("big", ids[0], 1, "greedy@v1", 1, 0, T0)], expected);
        });
        Assert.Equal(expected, await store.ListCandidatesAsync("big"));
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
