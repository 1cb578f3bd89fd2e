using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LeadEngine.Feedback;
using LeadEngine.Learning;
using LeadEngine.Server;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Serving;

/// <summary>Versions, the promotion gate, and update → promote → rollback from outcomes a real service collected.</summary>
public sealed class UpdateTests(ServingFixture fixture, ITestOutputHelper output) : IClassFixture<ServingFixture>, IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("le-home-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_home, true);
    }

    [Fact]
    public void GateRefusesACandidateWorseOnTheHoldoutOrOffPolicy()
    {
        var options = new UpdateOptions { Tolerance = 0.01 };
        var current = new HoldoutMetrics(0.70, 0.050);
        PolicyEstimate Flat(double v) => new(v, v - 0.01, v + 0.01);
        Assert.True(Updater.Decide(current, new HoldoutMetrics(0.695, 0.055), 50, null, 0, options).Promote);          // within the tolerance
        Assert.False(Updater.Decide(current, new HoldoutMetrics(0.65, 0.050), 50, null, 0, options).Promote);          // AUC worse
        Assert.False(Updater.Decide(current, new HoldoutMetrics(0.75, 0.090), 50, null, 0, options).Promote);          // Brier worse
        Assert.True(Updater.Decide(current, new HoldoutMetrics(0.75, 0.040), 50, Flat(0.02), 8, options).Promote);
        var (promote, reason) = Updater.Decide(current, new HoldoutMetrics(0.75, 0.040), 50, Flat(-0.2), 8, options);  // off-policy clearly worse
        Assert.False(promote);
        Assert.Contains("off-policy (8 lists)", reason);
        Assert.StartsWith("rejected: hold-out (50 leads): AUC 0.7000 → 0.7500", reason);
        Assert.True(Updater.Decide(current, new HoldoutMetrics(0.75, 0.040), 50, new PolicyEstimate(-0.05, -0.3, 0.2), 8, options).Promote); // not shown worse
    }

    [Fact]
    public void VersionsAreKeptAndRollbackMovesOnlyThePointer()
    {
        var versions = ModelVersions.Create(_home, fixture.AdapterDir, DateTimeOffset.MinValue);
        Assert.Equal("v0001", versions.Current);
        foreach (var (id, status) in new[] { ("v0002", "promoted"), ("v0003", "rejected"), ("v0004", "promoted") })
        {
            Directory.CreateDirectory(versions.Directory(id));
            File.Copy(Path.Combine(fixture.AdapterDir, "adapter_model.safetensors"), Path.Combine(versions.Directory(id), "adapter_model.safetensors"));
            versions.Add(new ModelVersion(id, versions.Current, DateTimeOffset.UtcNow, status, DateTimeOffset.UtcNow, status));
        }
        Assert.Equal("v0004", versions.Current);
        Assert.Equal("v0002", versions.Rollback().Id);      // skips the rejected v0003
        Assert.Equal("v0001", ModelVersions.Open(_home).Rollback().Id);
        var reopened = ModelVersions.Open(_home);
        Assert.Equal("v0001", reopened.Current);
        Assert.Equal(4, reopened.Versions.Count);
        Assert.Throws<InvalidOperationException>(() => reopened.Rollback());
        Assert.Throws<ArgumentException>(() => reopened.Rollback("v0003"));
        Assert.Equal("v0004", reopened.Rollback("v0004").Id);
        Assert.All(reopened.Versions, v => Assert.True(File.Exists(Path.Combine(reopened.Directory(v.Id), "adapter_model.safetensors"))));
    }

    /// <summary>Through the service: scores the leads, hands out six call lists of 20, then reports every lead's outcome (from its funnel stage) after them, in lead order.</summary>
    private static async Task CollectOutcomesAsync(LeadServer server, IReadOnlyList<LeadEngine.LeadScoring.Lead> leads, DateTimeOffset start)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        foreach (var chunk in leads.Chunk(100))
            using (var scored = await http.PostAsync("/v1/score", new StringContent("[" + string.Join(",", chunk.Select(StoredLead.ToJson)) + "]",
                Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, scored.StatusCode);
        for (int list = 0; list < 6; list++)
            using (var listed = await http.GetAsync("/v1/call-list?k=20")) Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var events = leads.Select((l, i) => new
        {
            event_id = $"e{i}", lead_id = l.Id, at = start.AddMinutes(1 + i),
            kind = l.Converted == 1 ? "converted" : l.Stage == "lost" ? "lost" : l.Stage is "store_visit" or "test_drive" ? "responded" : "ignored",
        }).ToList();
        using var sent = await http.PostAsJsonAsync("/v1/feedback", events);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
    }

    [Fact]
    public async Task AScheduledUpdateServesThePromotedVersionWithoutARestart()
    {
        var versions = ModelVersions.Create(_home, fixture.AdapterDir, DateTimeOffset.MinValue);
        await using var store = await FeedbackStore.OpenAsync(Path.Combine(_home, "feedback.db"));
        using var scorer = LeadEngine.LeadScoring.LeadScorer.Load(fixture.ModelDir, versions.Directory(versions.Current), fixture.Tokenizer, device: Fixtures.Simd, batchSize: 16);
        await using var server = await LeadServer.StartAsync(scorer, store, new ServeOptions { Port = 0, Policy = new EpsilonGreedyPolicy(0.3), Seed = 7 });
        await CollectOutcomesAsync(server, fixture.Leads.Take(300).ToList(), DateTimeOffset.UtcNow);
        var log = new List<string>();
        await using var updates = new ScheduledUpdates(server, store, _home, fixture.ModelDir, fixture.Tokenizer, LeadEngine.Kernels.DeviceKind.Cpu,
            new UpdateOptions { LearningRate = 3e-3, Epochs = 2, MinimumLists = 5 }, interval: null, log.Add);
        var result = await updates.RunOnceAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        string served = JsonDocument.Parse(await http.GetStringAsync("/healthz")).RootElement.GetProperty("model_version").GetString()!;
        if (result.Promoted)
        {
            Assert.NotSame(scorer, server.Scorer);
            Assert.NotEqual(scorer.ModelVersion, served);
            Assert.Equal(server.Scorer.ModelVersion, served);
            Assert.Contains(log, l => l.StartsWith("serving v0002", StringComparison.Ordinal));
            // The new model scores requests at once, and the metrics say which model serves.
            using var scored = await http.PostAsync("/v1/score", new StringContent(StoredLead.ToJson(fixture.Leads[350]), Encoding.UTF8, "application/json"));
            Assert.Equal(served, JsonDocument.Parse(await scored.Content.ReadAsStringAsync()).RootElement.GetProperty("model_version").GetString());
            Assert.Contains($"leadengine_model_info{{model_version=\"{served}\"", await http.GetStringAsync("/metrics"));
        }
        else Assert.Equal(scorer.ModelVersion, served);
        Assert.Equal(result.Promoted ? "v0002" : "v0001", ModelVersions.Open(_home).Current);
    }

    [Fact]
    public async Task UpdateRefusesACandidateTrainedOnBadOutcomes()
    {
        // A CRM sends a batch of wrong outcomes (every lead reported as converted but the real buyers); the latest
        // outcomes, held out, are right. The candidate learns "everyone buys", and the hold-out's Brier score refuses it.
        var versions = ModelVersions.Create(_home, fixture.AdapterDir, DateTimeOffset.MinValue);
        await using var store = await FeedbackStore.OpenAsync(Path.Combine(_home, "feedback.db"));
        var leads = fixture.Leads.Take(300).ToList();
        var start = DateTimeOffset.UtcNow;
        await store.RecordScoresAsync(leads.Select(l => (l, new ServedScore(l.Id, "v1", 0.5, 0, 50, 'C'))).ToList(), start);
        await store.AddEventsAsync(leads.Select((l, i) => new OutcomeEvent($"e{i}", l.Id,
            (l.Converted == 1) == (i < 240) ? OutcomeKind.Ignored : OutcomeKind.Converted, start.AddMinutes(1 + i))).ToList(), start);
        var result = await Updater.RunAsync(versions, store, fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd,
            new UpdateOptions { LearningRate = 3e-3, Epochs = 2 }, start.AddDays(1));
        output.WriteLine(result.Reason);
        Assert.Equal("v0002", result.Version);
        Assert.False(result.Promoted);
        Assert.True(result.Candidate!.Brier > result.Current!.Brier + 0.01, result.Reason);
        Assert.StartsWith("rejected: ", result.Reason);
        var reopened = ModelVersions.Open(_home);
        Assert.Equal("v0001", reopened.Current);
        Assert.Equal("rejected", reopened.Versions.Single(v => v.Id == "v0002").Status);
    }

    [Fact]
    public async Task UpdateTrainsACandidateFromServedOutcomesAndRollsBack()
    {
        var versions = ModelVersions.Create(_home, fixture.AdapterDir, DateTimeOffset.MinValue);
        string db = Path.Combine(_home, "feedback.db");
        var leads = fixture.Leads.Take(300).ToList();
        var start = DateTimeOffset.UtcNow;
        await using (var store = await FeedbackStore.OpenAsync(db))
        {
            using var scorer = LeadEngine.LeadScoring.LeadScorer.Load(fixture.ModelDir, versions.Directory(versions.Current), fixture.Tokenizer,
                device: Fixtures.Simd, batchSize: 16);
            await using (var server = await LeadServer.StartAsync(scorer, store, new ServeOptions { Port = 0, Policy = new EpsilonGreedyPolicy(0.3), Seed = 7 }))
                await CollectOutcomesAsync(server, leads, start);
            var options = new UpdateOptions { LearningRate = 3e-3, Epochs = 2, MinimumLists = 5 };
            var result = await Updater.RunAsync(versions, store, fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, options, start.AddDays(1));
            output.WriteLine(result.Reason);
            Assert.Equal("v0002", result.Version);
            Assert.Equal(240, result.NewOutcomes);
            Assert.Equal(0, result.Replay);       // nothing older than v0001's training
            Assert.Equal(60, result.Holdout);
            Assert.NotNull(result.Current);
            Assert.NotNull(result.OffPolicyDifference);
            Assert.Equal(6, result.Lists);
            Assert.Equal(result.Promoted, Updater.Decide(result.Current!, result.Candidate!, 60, result.OffPolicyDifference, 6, options).Promote);
            Assert.Equal(result.Promoted ? "v0002" : "v0001", versions.Current);
            Assert.True(File.Exists(Path.Combine(versions.Directory("v0002"), LeadEngine.LeadScoring.LeadScorer.CalibrationFile)));

            // A promoted version has learned everything there is: nothing new, no candidate. A rejected candidate leaves
            // the current version's outcomes new, so the next update tries again.
            var again = await Updater.RunAsync(ModelVersions.Open(_home), store, fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, options, start.AddDays(1));
            if (result.Promoted)
            {
                Assert.Null(again.Version);
                Assert.Contains("no outcomes newer", again.Reason);
            }
            else Assert.Equal("v0003", again.Version);
        }
        if (versions.Current == "v0002")
        {
            Assert.Equal("v0001", ModelVersions.Open(_home).Rollback().Id);
            Assert.Equal("v0001", ModelVersions.Open(_home).Current);
        }
        Assert.Equal(versions.Versions.Count, ModelVersions.Open(_home).Versions.Count);
        Assert.InRange(versions.Versions.Count, 2, 3);
    }
}
