using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LeadEngine.Feedback;
using LeadEngine.Learning;
using LeadEngine.Server;

namespace LeadEngine.Tests.Serving;

/// <summary>When to call, in the service: windows under the reps' capacity, retries in another slot, attempts learned and shown.</summary>
public sealed class CallTimingTests(ServingFixture fixture) : IClassFixture<ServingFixture>
{
    // A Monday: the horizon's windows are 08–10 and 10–12 UTC.
    private const string Monday8 = "2030-01-07T08:00:00Z", Monday12 = "2030-01-07T12:00:00Z";

    private async Task<(TestDatabase Db, FeedbackStore Store, LeadServer Server, HttpClient Http)> StartAsync(string kind, CallTimingOptions? timing,
        TimeSpan? cooldown = null)
    {
        var db = await TestDatabases.CreateAsync(kind);
        var store = await FeedbackStore.OpenAsync(db.Target);
        var server = await LeadServer.StartAsync(fixture.Scorer(), store, new ServeOptions { Port = 0, Seed = 7, Timing = timing, CallListCooldown = cooldown ?? TimeSpan.FromHours(20) });
        var http = new HttpClient { BaseAddress = server.Address };
        using var scored = await http.PostAsync("/v1/score", new StringContent("[" + string.Join(",", fixture.Leads.Take(10).Select(StoredLead.ToJson)) + "]",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, scored.StatusCode);
        return (db, store, server, http);
    }

    private static async Task<JsonElement> ListAsync(HttpClient http, int k) =>
        JsonDocument.Parse(await http.GetStringAsync($"/v1/call-list?k={k}&from={Monday8}&until={Monday12}")).RootElement;

    /// <summary>
    /// One call an hour: each two-hour window holds two calls. Ten listed leads get four windows between them and the rest none; a
    /// second list finds the windows full; no window holds more than its capacity, on either store.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task WindowsStayWithinTheRepsCapacity(string kind)
    {
        var (db, store, server, http) = await StartAsync(kind, new CallTimingOptions { Hours = CallHours.Weekly(1) });
        await using (db)
        await using (store)
        await using (server)
        using (http)
        {
            var first = await ListAsync(http, 6);
            var second = await ListAsync(http, 4);
            var windows = first.GetProperty("leads").EnumerateArray().Concat(second.GetProperty("leads").EnumerateArray())
                .Select(l => l.GetProperty("call_window")).ToList();
            Assert.Equal(10, windows.Count);
            var placed = windows.Where(w => w.ValueKind != JsonValueKind.Null).ToList();
            Assert.Equal(4, placed.Count);
            Assert.All(second.GetProperty("leads").EnumerateArray(), l => Assert.Equal(JsonValueKind.Null, l.GetProperty("call_window").ValueKind));
            Assert.All(placed.GroupBy(w => w.GetProperty("start").GetDateTimeOffset()), g => Assert.Equal(2, g.Count()));
            Assert.All(placed, w =>
            {
                Assert.Equal(w.GetProperty("start").GetDateTimeOffset().AddHours(2), w.GetProperty("end").GetDateTimeOffset());
                Assert.InRange(w.GetProperty("p_answer").GetDouble(), 0, 1);
                Assert.InRange(w.GetProperty("propensity").GetDouble(), 1e-9, 1);
            });
            // The store holds the same windows: what the next list's capacity counts.
            var stored = (await store.RecommendationsAsync()).Where(r => r.Window is not null).ToList();
            Assert.Equal(4, stored.Count);
        }
    }

    /// <summary>
    /// After no answer the lead's next window is in another slot of the week; the attempt is stored with its answer, shown among the
    /// lead's attempts and windows, learned by the pick-up model, and learned again by a restarted service.
    /// </summary>
    [Fact]
    public async Task ARetryAfterNoAnswerGoesToAnotherSlot()
    {
        var (db, store, server, http) = await StartAsync("sqlite", new CallTimingOptions(), cooldown: TimeSpan.Zero);
        await using (db)
        await using (store)
        {
            string leadId;
            DateTimeOffset firstStart;
            await using (server)
            using (http)
            {
                var first = (await ListAsync(http, 1)).GetProperty("leads")[0];
                leadId = first.GetProperty("lead_id").GetString()!;
                firstStart = first.GetProperty("call_window").GetProperty("start").GetDateTimeOffset();
                Assert.Equal(0, server.TimingAttempts);
                using var feedback = await http.PostAsJsonAsync("/v1/feedback",
                    new { event_id = "a1", lead_id = leadId, kind = "ignored", at = firstStart.AddMinutes(20), answered = false });
                Assert.Equal(HttpStatusCode.Accepted, feedback.StatusCode);
                Assert.Equal(1, server.TimingAttempts);
                // k = 10 lists every lead again (no cool-down): this one must be in the other window now.
                var again = (await ListAsync(http, 10)).GetProperty("leads").EnumerateArray().Single(l => l.GetProperty("lead_id").GetString() == leadId);
                Assert.NotEqual(firstStart, again.GetProperty("call_window").GetProperty("start").GetDateTimeOffset());
                var lead = JsonDocument.Parse(await http.GetStringAsync($"/v1/leads/{leadId}")).RootElement;
                var attempt = Assert.Single(lead.GetProperty("attempts").EnumerateArray());
                Assert.False(attempt.GetProperty("answered").GetBoolean());
                Assert.Equal(2, lead.GetProperty("call_windows").GetArrayLength());
                Assert.False(lead.GetProperty("events")[0].GetProperty("answered").GetBoolean());
            }
            await using var restarted = await LeadServer.StartAsync(fixture.Scorer(), store, new ServeOptions { Port = 0 });
            Assert.Equal(1, restarted.TimingAttempts);
        }
    }

    /// <summary>A lead with as many unanswered attempts as allowed is closed: no list offers it again. <c>answered</c> must be a boolean.</summary>
    [Fact]
    public async Task ALeadIsDroppedAfterItsLastUnansweredAttempt()
    {
        var (db, store, server, http) = await StartAsync("sqlite", new CallTimingOptions { MaxUnansweredAttempts = 2 }, cooldown: TimeSpan.Zero);
        await using (db)
        await using (store)
        await using (server)
        using (http)
        {
            string leadId = fixture.Leads[0].Id;
            using (var bad = await http.PostAsJsonAsync("/v1/feedback", new { event_id = "x", lead_id = leadId, kind = "contacted", at = Monday8, answered = "yes" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Equal("$.answered", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
            }
            using (await http.PostAsJsonAsync("/v1/feedback", new { event_id = "a1", lead_id = leadId, kind = "contacted", at = Monday8, answered = false })) { }
            Assert.Contains(leadId, (await ListAsync(http, 10)).GetProperty("leads").EnumerateArray().Select(l => l.GetProperty("lead_id").GetString()));
            using (await http.PostAsJsonAsync("/v1/feedback", new { event_id = "a2", lead_id = leadId, kind = "ignored", at = Monday12 })) { }
            Assert.DoesNotContain(leadId, (await ListAsync(http, 10)).GetProperty("leads").EnumerateArray().Select(l => l.GetProperty("lead_id").GetString()));
        }
    }

    /// <summary>With timing off (<c>serve --no-timing</c>) a call list needs no horizon and has no windows; no pick-up model is kept.</summary>
    [Fact]
    public async Task WithTimingOffListsHaveNoWindows()
    {
        var (db, store, server, http) = await StartAsync("sqlite", null);
        await using (db)
        await using (store)
        await using (server)
        using (http)
        {
            using var response = await http.GetAsync("/v1/call-list?k=3");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var leads = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("leads").EnumerateArray().ToList();
            Assert.Equal(3, leads.Count);
            Assert.All(leads, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("call_window").ValueKind));
            Assert.Null(server.TimingAttempts);
        }
    }

    [Fact]
    public void LeadsCarryTheirOwnClock()
    {
        var at = new DateTimeOffset(2030, 1, 7, 8, 0, 0, TimeSpan.Zero);
        LeadScoring.Lead With(string name, string value) => new() { Id = "L", CreatedAt = at, Features = [new(name, value)] };
        Assert.Equal(TimeSpan.FromHours(-5), LeadClock.OffsetAt(With("utc_offset", "-05:00"), at, TimeZoneInfo.Utc));
        Assert.Equal(TimeSpan.FromHours(5.5), LeadClock.OffsetAt(With("utc_offset", "5.5"), at, TimeZoneInfo.Utc));
        Assert.Equal(TimeSpan.FromHours(1), LeadClock.OffsetAt(With("timezone", "Europe/Berlin"), at, TimeZoneInfo.Utc));
        Assert.Equal(TimeSpan.Zero, LeadClock.OffsetAt(With("channel", "web"), at, TimeZoneInfo.Utc));
    }

    /// <summary>
    /// <c>leadengine timing</c> on a store whose employed leads answer in the evening and retired leads in the morning: the learned
    /// best slot of each segment is right, the JSON counts every attempt, and the heatmaps are written.
    /// </summary>
    [Fact]
    public async Task TheTimingCommandShowsWhenEachSegmentAnswers()
    {
        await using var db = await TestDatabases.CreateAsync("sqlite");
        string outDir = Path.Combine(Path.GetDirectoryName(db.Target)!, "charts");
        await using (var store = await FeedbackStore.OpenAsync(db.Target))
        {
            var at = new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero);
            var leads = Enumerable.Range(0, 40).Select(i => new LeadScoring.Lead
            {
                Id = $"L{i}", CreatedAt = at, Features = [new("job", i % 2 == 0 ? "employed" : "retired"), new("utc_offset", "+01:00")],
            }).ToList();
            await store.RecordScoresAsync(leads.Select(l => (l, new ServedScore(l.Id, "v1", 0.1, 0, 10, 'C'))).ToList(), at);
            var rng = new Random(2);
            var events = new List<OutcomeEvent>();
            for (int n = 0; n < 400; n++)
            {
                var lead = leads[n % leads.Count];
                bool evening = rng.Next(2) == 0;
                // 09:00 or 19:00 in the lead's clock (UTC+1) on a weekday.
                var when = at.AddDays(n % 5).AddHours(evening ? 18 : 8);
                bool employed = lead.Features[0].Value == "employed";
                bool answered = rng.NextDouble() < (employed == evening ? 0.7 : 0.1);
                events.Add(new OutcomeEvent($"e{n}", lead.Id, answered ? OutcomeKind.Contacted : OutcomeKind.Ignored, when));
            }
            await store.AddEventsAsync(events, at);
        }
        var (code, stdout, err) = CliRunner.Run("timing", "--db", db.Target, "--segment-column", "job", "--json", "--out", outDir);
        Assert.True(code == 0, err);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(400, report.GetProperty("attempts").GetInt32());
        foreach (var segment in report.GetProperty("segments").EnumerateArray())
        {
            var best = segment.GetProperty("slots").EnumerateArray().MaxBy(s => s.GetProperty("learned").GetDouble());
            Assert.Equal(segment.GetProperty("value").GetString() == "employed" ? 18 : 8, best.GetProperty("hour").GetInt32());
        }
        Assert.True(File.Exists(Path.Combine(outDir, "timing-heatmap.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "timing-segment-2.svg")));
    }
}
