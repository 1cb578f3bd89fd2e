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
        // The logs give most of where the two lists differ too little chance: the interval cannot tell, and the gate refuses.
        var (blind, blindReason) = Updater.Decide(current, new HoldoutMetrics(0.75, 0.040), 50, Flat(0.02), 8, options, unsupportedShare: 0.8);
        Assert.False(blind);
        Assert.Contains("80 % of where the lists differ beyond what the logs can weigh (cannot tell)", blindReason);
    }

    /// <summary>A copy of the fixture's adapter with one head weight changed: another version, with another model hash.</summary>
    private string AdapterVariant(int seed)
    {
        string dir = Path.Combine(_home, $"variant-{seed}");
        if (Directory.Exists(dir)) return dir;
        Directory.CreateDirectory(dir);
        foreach (string file in Directory.GetFiles(fixture.AdapterDir)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        string weights = Path.Combine(dir, "adapter_model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^2] ^= (byte)(seed + 1); // the last tensor's last float, in its mantissa: still a valid file
        File.WriteAllBytes(weights, bytes);
        return dir;
    }

    private string Cache(string host) => Path.Combine(_home, host, "versions");

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task VersionsAreKeptInTheStoreAndRollbackOnlyChangesWhichServes(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        Assert.False(await ModelVersions.ExistsAsync(store));
        await Assert.ThrowsAsync<InvalidOperationException>(() => ModelVersions.OpenAsync(store, Cache("a")));
        var versions = await ModelVersions.ImportAsync(store, Cache("a"), fixture.AdapterDir);
        Assert.Equal("v0001", versions.Current);
        Assert.Null(versions.CurrentVersion.TrainedUntil);
        foreach (var (id, status) in new[] { ("v0002", ModelVersion.Promoted), ("v0003", ModelVersion.Rejected), ("v0004", ModelVersion.Promoted) })
        {
            var open = await ModelVersions.OpenAsync(store, Cache("a"));
            await open.AddAsync(id, open.Current, DateTimeOffset.UtcNow, status, DateTimeOffset.UtcNow, status, AdapterVariant(id[^1] - '0'), "promote");
        }
        // Another host sees the same history and unpacks each version, byte for byte.
        var other = await ModelVersions.OpenAsync(store, Cache("b"));
        Assert.Equal("v0004", other.Current);
        Assert.Equal(["import", "promote", "promote"], other.History.Promotions.Select(p => p.Action));
        string dir = await other.DirectoryAsync("v0004");
        Assert.StartsWith(Cache("b"), dir);
        Assert.Equal(File.ReadAllBytes(Path.Combine(AdapterVariant(4), "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "adapter_model.safetensors")));
        // A damaged local copy is unpacked again from the store.
        File.WriteAllText(Path.Combine(dir, "lead_schema.json"), "{}");
        Assert.Equal(dir, await other.DirectoryAsync("v0004"));
        Assert.Equal(File.ReadAllText(Path.Combine(fixture.AdapterDir, "lead_schema.json")), File.ReadAllText(Path.Combine(dir, "lead_schema.json")));

        Assert.Equal("v0002", (await other.RollbackAsync(null, "test")).VersionId);      // skips the rejected v0003
        Assert.Equal("v0001", (await versions.RollbackAsync(null, "test")).VersionId);   // decided on the history as it is now, not as opened
        var reopened = await ModelVersions.OpenAsync(store, Cache("a"));
        Assert.Equal("v0001", reopened.Current);
        Assert.Equal(4, reopened.Versions.Count);
        await Assert.ThrowsAsync<InvalidOperationException>(() => reopened.RollbackAsync(null, "test"));
        await Assert.ThrowsAsync<ArgumentException>(() => reopened.RollbackAsync("v0003", "test"));
        Assert.Equal("v0004", (await reopened.RollbackAsync("v0004", "roll forward")).VersionId);
        Assert.Equal("roll forward (was v0001)", (await store.CurrentModelAsync())!.Reason);

        // A candidate trained from a version that is no longer in force (a rollback meanwhile) never serves.
        var stale = await ModelVersions.OpenAsync(store, Cache("a"));
        var added = await stale.AddAsync("v0005", "v0002", DateTimeOffset.UtcNow, ModelVersion.Promoted, DateTimeOffset.UtcNow, "promoted: test", AdapterVariant(5), "promote");
        Assert.Equal(ModelVersion.Rejected, added.Status);
        Assert.Contains("v0004 was put in force while it trained from v0002", added.Note);
        Assert.Equal("v0004", (await store.CurrentModelAsync())!.VersionId);
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task OneUpdateAtATimeAcrossHosts(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var hostA = await FeedbackStore.OpenAsync(db.Target);
        await using var hostB = await FeedbackStore.OpenAsync(db.Target);
        await ModelVersions.ImportAsync(hostA, Cache("a"), fixture.AdapterDir);
        await using (var held = await hostA.TryLockUpdatesAsync())
        {
            Assert.NotNull(held);
            Assert.Null(await hostB.TryLockUpdatesAsync());
            var refused = await Updater.RunAsync(hostB, Cache("b"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, new UpdateOptions(), DateTimeOffset.UtcNow);
            Assert.Null(refused.Version);
            Assert.Contains("another update is running", refused.Reason);
        }
        await using (var next = await hostB.TryLockUpdatesAsync()) Assert.NotNull(next);
        // Hosts on one schedule: a version made within NotWithin means this period's update was made elsewhere.
        var skipped = await Updater.RunAsync(hostB, Cache("b"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd,
            new UpdateOptions { NotWithin = TimeSpan.FromHours(12) }, DateTimeOffset.UtcNow);
        Assert.Null(skipped.Version);
        Assert.Contains("v0001 was made 0.0 h ago", skipped.Reason);
    }

    /// <summary><c>update</c>, <c>versions</c> and <c>rollback</c> on a store's history, as an operator runs them from any host.</summary>
    /// <summary>
    /// A hold-out that cannot rank (no positives, no negatives: AUC NaN on both sides) is "cannot tell" and refuses, whatever the
    /// Brier scores and the off-policy interval say; the reason says why.
    /// </summary>
    [Theory]
    [InlineData(double.NaN, double.NaN)]   // every hold-out lead had the same outcome
    [InlineData(0.7, double.NaN)]          // the candidate's probabilities could not be ranked
    [InlineData(double.NaN, 0.7)]
    public void GateRefusesAHoldoutThatCannotRank(double currentAuc, double candidateAuc)
    {
        var options = new UpdateOptions { Tolerance = 0.01 };
        var (promote, reason) = Updater.Decide(new HoldoutMetrics(currentAuc, 0.05), new HoldoutMetrics(candidateAuc, 0.01), 40,
            new PolicyEstimate(0.1, 0.05, 0.15), 8, options);
        Assert.False(promote);
        Assert.Contains("cannot tell: the hold-out has no positives or no negatives", reason);
        Assert.StartsWith("rejected: ", reason);
    }

    [Fact]
    public async Task CliUpdateVersionsAndRollbackWorkOnTheStoresHistory()
    {
        string db = Path.Combine(_home, "feedback.db"), empty = Path.Combine(_home, "empty.db");
        await using (var store = await FeedbackStore.OpenAsync(db)) { }
        await using (var store = await FeedbackStore.OpenAsync(empty)) { }
        var (noHistory, _, noHistoryErr) = CliRunner.Run("update", "--db", empty, "--device", "cpu");
        Assert.Equal(2, noHistory);
        Assert.Contains("no model history yet: pass --adapter DIR", noHistoryErr);
        // A version folder from before histories were kept in the store: the error names the adapter to import.
        string legacy = Path.Combine(_home, "legacy");
        Directory.CreateDirectory(legacy);
        File.WriteAllText(Path.Combine(legacy, "registry.json"), """{"current": "v0003", "versions": []}""");
        await using (var store = await FeedbackStore.OpenAsync(Path.Combine(legacy, "feedback.db"))) { }
        var (old, _, oldErr) = CliRunner.Run("update", "--home", legacy, "--device", "cpu");
        Assert.Equal(2, old);
        Assert.Contains($"--adapter {Path.Combine(legacy, "versions", "v0003")} imports the version that served", oldErr);
        var (imported, importOut, importErr) = CliRunner.Run("update", "--db", db, "--adapter", fixture.AdapterDir, "--device", "cpu");
        Assert.True(imported == 0, importErr);
        Assert.Contains("imported", importOut);
        Assert.Contains("no candidate: no outcomes newer", importOut);
        Assert.Contains("version in force: v0001", importOut);
        var (_, listed, _) = CliRunner.Run("versions", "--db", db);
        Assert.Contains("* v0001  promoted", listed);
        Assert.Contains("import    v0001", listed);
        var (first, _, firstErr) = CliRunner.Run("rollback", "--db", db);
        Assert.Equal(1, first);
        Assert.Contains("nothing to roll back to", firstErr);
        await using (var store = await FeedbackStore.OpenAsync(db))
            await (await ModelVersions.OpenAsync(store, Cache("a"))).AddAsync("v0002", "v0001", DateTimeOffset.UtcNow, ModelVersion.Promoted, DateTimeOffset.UtcNow,
                "promoted: test", AdapterVariant(2), "promote");
        var (rolled, rolledOut, rolledErr) = CliRunner.Run("rollback", "--db", db, "--reason", "bad week");
        Assert.True(rolled == 0, rolledErr);
        Assert.Contains("rolled back: bad week (was v0002)", rolledOut);
        Assert.Contains("version in force: v0001; 0 hosts on", rolledOut); // no host serves this store: none is claimed to
        // A store with a history serves its version in force: a named adapter beside it would split the history.
        var (both, _, bothErr) = CliRunner.Run("serve", "--db", db, "--adapter", fixture.AdapterDir, "--port", "0");
        Assert.Equal(2, both);
        Assert.Contains("has a model history", bothErr);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>
    /// The loop as a user runs it, through the CLI: serve with Thompson sampling collects scores, call lists and outcomes;
    /// update starts the store's model history and trains a candidate; serve again serves the version in force.
    /// </summary>
    [Fact]
    public async Task TheLearningLoopRunsThroughTheCli()
    {
        string db = Path.Combine(_home, "feedback.db");
        var (collecting, address) = ServeProcess.Start("--adapter", fixture.AdapterDir, "--db", db, "--create-db", "--policy", "thompson");
        try
        {
            await CollectOutcomesAsync(address, fixture.Leads.Take(300).ToList(), DateTimeOffset.UtcNow);
            using var http = new HttpClient { BaseAddress = address };
            var list = JsonDocument.Parse(await http.GetStringAsync("/v1/call-list?k=5")).RootElement;
            Assert.StartsWith("thompson+exploration-slots(0.025)@", list.GetProperty("policy_version").GetString());
            // Every open lead the served ranking gives a chance keeps a logged propensity: the support update's gate weighs.
            string listId = list.GetProperty("list_id").GetString()!;
            await using var store = await FeedbackStore.OpenAsync(db);
            var considered = await store.ListCandidatesAsync(listId);
            Assert.Equal(5, considered.Sum(c => c.Propensity), 6);
            Assert.All(considered.Where(c => c.Probability > 0), c => Assert.True(c.Propensity > 0, $"{c.LeadId}: propensity 0"));
        }
        finally
        {
            collecting.Kill();
            await collecting.WaitForExitAsync();
        }
        var (updated, updateOut, updateErr) = CliRunner.Run("update", "--db", db, "--adapter", fixture.AdapterDir, "--epochs", "2", "--lr", "3e-3", "--device", "cpu");
        Assert.True(updated == 0, updateErr);
        output.WriteLine(updateOut);
        Assert.Matches("v0002: (promoted|rejected): hold-out", updateOut);
        string inForce = updateOut.Contains("v0002: promoted") ? "v0002" : "v0001";
        var (serving, servingAddress) = ServeProcess.Start("--db", db, "--policy", "thompson");
        try
        {
            using var http = new HttpClient { BaseAddress = servingAddress };
            using var health = await http.GetAsync("/healthz");
            Assert.Equal(inForce, JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("history").GetProperty("serving").GetString());
            Assert.Equal(inForce, health.Headers.GetValues(LeadServer.VersionHeader).Single());
        }
        finally
        {
            serving.Kill();
            await serving.WaitForExitAsync();
        }
    }

    /// <summary>Polls <paramref name="http"/>'s health until it serves <paramref name="version"/>, and returns how long that took.</summary>
    private static async Task<TimeSpan> WaitForVersionAsync(HttpClient http, string version, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var health = await http.GetAsync("/healthz");
            var history = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("history");
            string? serving = history.ValueKind == JsonValueKind.Null ? null : history.GetProperty("serving").GetString(); // null: not from the history
            if (serving == version)
            {
                Assert.Equal(version, health.Headers.GetValues(LeadServer.VersionHeader).Single());
                return clock.Elapsed;
            }
            Assert.True(clock.Elapsed < limit, $"still serving {serving ?? "an adapter outside the history"} after {limit}, not {version}");
            await Task.Delay(50);
        }
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task APromotionAndARollbackOnOneHostReachTheOther(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using (var setup = await FeedbackStore.OpenAsync(db.Target)) await ModelVersions.ImportAsync(setup, Cache("a"), fixture.AdapterDir);
        var poll = TimeSpan.FromMilliseconds(200);
        // Two hosts: each its own store connection, version cache, follower and server.
        var hosts = new List<(FeedbackStore Store, ModelFollower Follower, LeadServer Server, HttpClient Http)>();
        foreach (string name in new[] { "a", "b" })
        {
            var store = await FeedbackStore.OpenAsync(db.Target);
            var follower = await ModelFollower.OpenAsync(store, Cache(name), fixture.ModelDir, LeadEngine.Kernels.DeviceKind.Cpu, 8, output.WriteLine);
            var server = await LeadServer.StartAsync(follower.First!, store, new ServeOptions { Port = 0 }, follower.FirstVersionId);
            follower.Follow(server, poll);
            hosts.Add((store, follower, server, new HttpClient { BaseAddress = server.Address }));
        }
        try
        {
            string first = hosts[1].Server.Scorer.ModelVersion;
            using (var scored = await hosts[1].Http.PostAsync("/v1/score", new StringContent(StoredLead.ToJson(fixture.Leads[0]), Encoding.UTF8, "application/json")))
            {
                Assert.Equal("v0001", scored.Headers.GetValues(LeadServer.VersionHeader).Single());
                Assert.Equal(first, scored.Headers.GetValues(LeadServer.ModelHeader).Single());
            }
            // Host a promotes a new version (as its update would) and serves it at once; host b follows within a poll and a load.
            var versions = await ModelVersions.OpenAsync(hosts[0].Store, Cache("a"));
            await versions.AddAsync("v0002", "v0001", DateTimeOffset.UtcNow, ModelVersion.Promoted, DateTimeOffset.UtcNow, "promoted: test", AdapterVariant(2), "promote");
            await hosts[0].Follower.SyncAsync(); // at once, as its update does (its own poll may have been first)
            Assert.Equal("v0002", hosts[0].Server.VersionId);
            output.WriteLine($"promotion reached host b in {(await WaitForVersionAsync(hosts[1].Http, "v0002", TimeSpan.FromSeconds(20))).TotalMilliseconds:F0} ms");
            Assert.NotEqual(first, hosts[1].Server.Scorer.ModelVersion);
            Assert.Equal(hosts[0].Server.Scorer.ModelVersion, hosts[1].Server.Scorer.ModelVersion);
            // A rollback made on host b reaches host a.
            await (await ModelVersions.OpenAsync(hosts[1].Store, Cache("b"))).RollbackAsync(null, "test");
            output.WriteLine($"rollback reached host a in {(await WaitForVersionAsync(hosts[0].Http, "v0001", TimeSpan.FromSeconds(20))).TotalMilliseconds:F0} ms");
            Assert.Equal(first, hosts[0].Server.Scorer.ModelVersion);
            var health = JsonDocument.Parse(await hosts[0].Http.GetStringAsync("/healthz")).RootElement.GetProperty("history");
            Assert.Equal("v0001", health.GetProperty("in_force").GetString());
            Assert.Equal(JsonValueKind.Null, health.GetProperty("problem").ValueKind);
        }
        finally
        {
            foreach (var (store, follower, server, http) in hosts)
            {
                http.Dispose();
                await server.DisposeAsync();
                await follower.DisposeAsync();
                await store.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A host started while its store had no model history (serving an adapter of its own) follows the history from the moment
    /// one exists: it served its old model for 8 minutes and more before, while update said every host served the new one. Its
    /// heartbeats in the store say what it serves, before and after.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task AHostStartedBeforeTheHistoryFollowsIt(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        using var own = fixture.Scorer();
        await using var follower = ModelFollower.ForAdapter(store, Cache("late"), fixture.ModelDir, LeadEngine.Kernels.DeviceKind.Cpu, 8, output.WriteLine);
        await using var server = await LeadServer.StartAsync(own, store, new ServeOptions { Port = 0 });
        follower.Follow(server, TimeSpan.FromMilliseconds(200));
        using var http = new HttpClient { BaseAddress = server.Address };
        await follower.SyncAsync(); // a check now, as the poll makes one (the store has no history: nothing changes)
        var before = Assert.Single(await store.HeartbeatsAsync(DateTimeOffset.UtcNow.AddMinutes(-1)));
        Assert.Null(before.VersionId);
        Assert.Equal(own.ModelVersion, before.ModelVersion);

        await using (var other = await FeedbackStore.OpenAsync(db.Target)) // update on another host starts the history
            await ModelVersions.ImportAsync(other, Cache("other"), AdapterVariant(3));
        output.WriteLine($"the new history reached the host in {(await WaitForVersionAsync(http, "v0001", TimeSpan.FromSeconds(20))).TotalMilliseconds:F0} ms");
        Assert.NotEqual(own.ModelVersion, server.Scorer.ModelVersion);
        await follower.SyncAsync();
        var after = Assert.Single(await store.HeartbeatsAsync(DateTimeOffset.UtcNow.AddMinutes(-1)));
        Assert.Equal("v0001", after.VersionId);
        Assert.Equal(server.Scorer.ModelVersion, after.ModelVersion);
    }

    /// <summary>Through the service: scores the leads, hands out six call lists of 20, then reports every lead's outcome (from its funnel stage) after them, in lead order.</summary>
    private static async Task CollectOutcomesAsync(Uri server, IReadOnlyList<LeadEngine.LeadScoring.Lead> leads, DateTimeOffset start)
    {
        using var http = new HttpClient { BaseAddress = server };
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
        await using var store = await FeedbackStore.OpenAsync(Path.Combine(_home, "feedback.db"));
        await ModelVersions.ImportAsync(store, Cache("a"), fixture.AdapterDir);
        await using var follower = await ModelFollower.OpenAsync(store, Cache("a"), fixture.ModelDir, LeadEngine.Kernels.DeviceKind.Cpu, 16, output.WriteLine);
        var first = follower.First!;
        await using var server = await LeadServer.StartAsync(first, store, new ServeOptions { Port = 0, Policy = new EpsilonGreedyPolicy(0.3), Seed = 7 }, follower.FirstVersionId);
        follower.Follow(server, TimeSpan.FromHours(1));
        await CollectOutcomesAsync(server.Address, fixture.Leads.Take(300).ToList(), DateTimeOffset.UtcNow);
        var log = new List<string>();
        await using var updates = new ScheduledUpdates(follower, store, LeadEngine.Kernels.DeviceKind.Cpu,
            new UpdateOptions { LearningRate = 3e-3, Epochs = 2, MinimumLists = 5 }, null, log.Add);
        var result = await updates.RunOnceAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        string served = JsonDocument.Parse(await http.GetStringAsync("/healthz")).RootElement.GetProperty("model_version").GetString()!;
        if (result.Promoted)
        {
            Assert.NotSame(first, server.Scorer);
            Assert.NotEqual(first.ModelVersion, served);
            Assert.Equal(server.Scorer.ModelVersion, served);
            Assert.Equal("v0002", server.VersionId);
            // The new model scores requests at once, and the metrics say which model serves.
            using var scored = await http.PostAsync("/v1/score", new StringContent(StoredLead.ToJson(fixture.Leads[350]), Encoding.UTF8, "application/json"));
            Assert.Equal(served, JsonDocument.Parse(await scored.Content.ReadAsStringAsync()).RootElement.GetProperty("model_version").GetString());
            Assert.Contains($"leadengine_model_info{{model_version=\"{served}\"", await http.GetStringAsync("/metrics"));
        }
        else Assert.Equal(first.ModelVersion, served);
        Assert.Equal(result.Promoted ? "v0002" : "v0001", (await ModelVersions.OpenAsync(store, Cache("a"))).Current);
    }

    /// <summary>
    /// A candidate is trained the way the version it would replace was: an adapter that train chose by comparing heads,
    /// blend and trees (here with HPRO off) gets a candidate chosen by the same comparison, with the same loss weights.
    /// </summary>
    [Fact]
    public async Task TheCandidateIsTrainedTheWayTheCurrentVersionWas()
    {
        string trained = Path.Combine(_home, "compared");
        var options = LeadEngine.LeadScoring.BuiltInModel.TrainingOptions(1, new LeadEngine.Training.LossWeights(1, 0, 0.2)) with { BatchSize = 16 };
        var current = LeadPipeline.TrainAndSelect(fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, fixture.Leads.Take(120).ToList(), FunnelConfig.Automotive,
            options, trained);
        Assert.Equal(3, current.Validation.Length);
        await using var store = await FeedbackStore.OpenAsync(Path.Combine(_home, "feedback.db"));
        await ModelVersions.ImportAsync(store, Cache("a"), trained);
        var leads = fixture.Leads.Skip(100).Take(200).ToList();
        var start = DateTimeOffset.UtcNow;
        await store.RecordScoresAsync(leads.Select(l => (l, new ServedScore(l.Id, "v1", 0.5, 0, 50, 'C'))).ToList(), start);
        await store.AddEventsAsync(leads.Select((l, i) => new OutcomeEvent($"e{i}", l.Id,
            l.Converted == 1 ? OutcomeKind.Converted : l.Stage is "store_visit" or "test_drive" ? OutcomeKind.Responded : OutcomeKind.Ignored, start.AddMinutes(1 + i))).ToList(), start);
        var log = new List<string>();
        var result = await Updater.RunAsync(store, Cache("a"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, new UpdateOptions { Epochs = 1 }, start.AddDays(1), log.Add);
        Assert.Equal("v0002", result.Version);
        Assert.Contains(log, l => l.Contains("heads, blend or trees, compared as train does"));
        var versions = await ModelVersions.OpenAsync(store, Cache("a"));
        var candidate = TrainingRecord.Load(await versions.DirectoryAsync("v0002"))!;
        Assert.Equal(3, candidate.Validation.Length);
        Assert.Equal(current.LossWeights, candidate.LossWeights);
        Assert.Equal(160, candidate.TrainingLeads);   // the 80% of the outcomes before the hold-out
    }

    [Fact]
    public async Task UpdateRefusesACandidateTrainedOnBadOutcomes()
    {
        // A CRM sends a batch of wrong outcomes (every lead reported as converted but the real buyers); the latest
        // outcomes, held out, are right. The candidate learns "everyone buys", and the hold-out's Brier score refuses it.
        await using var store = await FeedbackStore.OpenAsync(Path.Combine(_home, "feedback.db"));
        await ModelVersions.ImportAsync(store, Cache("a"), fixture.AdapterDir);
        var leads = fixture.Leads.Take(300).ToList();
        var start = DateTimeOffset.UtcNow;
        await store.RecordScoresAsync(leads.Select(l => (l, new ServedScore(l.Id, "v1", 0.5, 0, 50, 'C'))).ToList(), start);
        await store.AddEventsAsync(leads.Select((l, i) => new OutcomeEvent($"e{i}", l.Id,
            (l.Converted == 1) == (i < 240) ? OutcomeKind.Ignored : OutcomeKind.Converted, start.AddMinutes(1 + i))).ToList(), start);
        var result = await Updater.RunAsync(store, Cache("a"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd,
            new UpdateOptions { LearningRate = 3e-3, Epochs = 2 }, start.AddDays(1));
        output.WriteLine(result.Reason);
        Assert.Equal("v0002", result.Version);
        Assert.False(result.Promoted);
        Assert.True(result.Candidate!.Brier > result.Current!.Brier + 0.01, result.Reason);
        Assert.StartsWith("rejected: ", result.Reason);
        var reopened = await ModelVersions.OpenAsync(store, Cache("a"));
        Assert.Equal("v0001", reopened.Current);
        Assert.Equal(ModelVersion.Rejected, reopened.Version("v0002").Status);
        Assert.Empty(Directory.GetDirectories(Cache("a"), ".staging-*"));
    }

    [Fact]
    public async Task UpdateTrainsACandidateFromServedOutcomesAndRollsBack()
    {
        string db = Path.Combine(_home, "feedback.db");
        var leads = fixture.Leads.Take(300).ToList();
        var start = DateTimeOffset.UtcNow;
        await using var store = await FeedbackStore.OpenAsync(db);
        var versions = await ModelVersions.ImportAsync(store, Cache("a"), fixture.AdapterDir);
        using (var scorer = LeadEngine.LeadScoring.LeadScorer.Load(fixture.ModelDir, await versions.DirectoryAsync(versions.Current), fixture.Tokenizer,
            device: Fixtures.Simd, batchSize: 16))
        await using (var server = await LeadServer.StartAsync(scorer, store, new ServeOptions { Port = 0, Policy = new EpsilonGreedyPolicy(0.3), Seed = 7 }))
            await CollectOutcomesAsync(server.Address, leads, start);
        var options = new UpdateOptions { LearningRate = 3e-3, Epochs = 2, MinimumLists = 5 };
        var result = await Updater.RunAsync(store, Cache("a"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, options, start.AddDays(1));
        output.WriteLine(result.Reason);
        Assert.Equal("v0002", result.Version);
        Assert.Equal(240, result.NewOutcomes);
        Assert.Equal(0, result.Replay);       // nothing older than v0001's training
        Assert.Equal(60, result.Holdout);
        Assert.NotNull(result.Current);
        Assert.NotNull(result.OffPolicyDifference);
        Assert.Equal(6, result.Lists);
        Assert.Equal(result.Promoted, Updater.Decide(result.Current!, result.Candidate!, 60, result.OffPolicyDifference, 6, options).Promote);
        versions = await ModelVersions.OpenAsync(store, Cache("a"));
        Assert.Equal(result.Promoted ? "v0002" : "v0001", versions.Current);
        Assert.True(File.Exists(Path.Combine(await versions.DirectoryAsync("v0002"), LeadEngine.LeadScoring.LeadScorer.CalibrationFile)));

        // A promoted version has learned everything there is: nothing new, no candidate. A rejected candidate leaves
        // the current version's outcomes new, so the next update tries again.
        var again = await Updater.RunAsync(store, Cache("a"), fixture.ModelDir, fixture.Tokenizer, Fixtures.Simd, options, start.AddDays(1));
        if (result.Promoted)
        {
            Assert.Null(again.Version);
            Assert.Contains("no outcomes newer", again.Reason);
            Assert.Equal("v0001", (await versions.RollbackAsync(null, "test")).VersionId);
            Assert.Equal("v0001", (await ModelVersions.OpenAsync(store, Cache("a"))).Current);
        }
        else Assert.Equal("v0003", again.Version);
        Assert.InRange((await ModelVersions.OpenAsync(store, Cache("a"))).Versions.Count, 2, 3);
    }
}
