using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using LeadEngine.Feedback;

namespace LeadEngine.Tests.Serving;

/// <summary>
/// <c>leadengine serve</c> as its own processes, killed with SIGKILL in the middle of a stream of
/// feedback: after a restart every event they acknowledged (202) is there.
/// </summary>
public sealed class KillTests(ServingFixture fixture) : IClassFixture<ServingFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-kill-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private (Process Process, Uri Address) Serve(string db, bool create = false) =>
        ServeProcess.Start(["--adapter", fixture.AdapterDir, "--db", db, .. create ? ["--create-db"] : Array.Empty<string>()]);

    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Client <paramref name="c"/>'s event <paramref name="i"/>: the same contents every time it is sent.</summary>
    private FeedbackBody Event(int c, int i) => new($"ev-{c}-{i}", fixture.Leads[i % 20].Id, "contacted", T0.AddSeconds(i), $"call {i}");

    private sealed record FeedbackBody(string event_id, string lead_id, string kind, DateTimeOffset at, string note);

    /// <summary>
    /// Two hosts on one database take feedback from four clients; both are killed with SIGKILL mid-stream. After a
    /// restart every event either host acknowledged is stored, and resending one is a harmless duplicate.
    /// </summary>
    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task AcknowledgedFeedbackSurvivesSigkillOfTwoHosts(string kind)
    {
        await using var database = await TestDatabases.CreateAsync(kind);
        string db = database.Target;
        var hosts = new List<Process>();
        var acknowledged = new List<string>();
        try
        {
            var (first, firstAddress) = Serve(db, create: true);
            hosts.Add(first);
            var (second, secondAddress) = Serve(db);
            hosts.Add(second);
            using var httpFirst = new HttpClient { BaseAddress = firstAddress };
            using var httpSecond = new HttpClient { BaseAddress = secondAddress };
            var leads = fixture.Leads.Take(20).ToList();
            using (var scored = await httpFirst.PostAsync("/v1/score",
                new StringContent("[" + string.Join(",", leads.Select(StoredLead.ToJson)) + "]", Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, scored.StatusCode);

            // Four clients, two on each host, stream events; both hosts are killed once each has acknowledged 75.
            using var stop = new CancellationTokenSource();
            var acks = new int[2];
            var streams = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
            {
                var http = c % 2 == 0 ? httpFirst : httpSecond;
                var acked = new List<string>();
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        using var response = await http.PostAsJsonAsync("/v1/feedback", Event(c, i));
                        if (response.StatusCode != HttpStatusCode.Accepted) continue;
                        acked.Add(Event(c, i).event_id);
                        Interlocked.Increment(ref acks[c % 2]);
                    }
                    catch (HttpRequestException)
                    {
                        break; // the host is gone
                    }
                }
                return acked;
            })).ToList();
            var until = DateTime.UtcNow.AddSeconds(30);
            while ((Volatile.Read(ref acks[0]) < 75 || Volatile.Read(ref acks[1]) < 75) && DateTime.UtcNow < until) await Task.Delay(20);
            foreach (var host in hosts) host.Kill(); // SIGKILL: no shutdown, no flush
            foreach (var host in hosts) host.WaitForExit();
            await stop.CancelAsync();
            foreach (var stream in streams) acknowledged.AddRange(await stream);
        }
        finally
        {
            foreach (var host in hosts)
            {
                if (!host.HasExited) host.Kill();
                host.Dispose();
            }
        }
        Assert.True(acknowledged.Count(id => id[3] is '0' or '2') >= 50 && acknowledged.Count(id => id[3] is '1' or '3') >= 50,
            $"too few events were acknowledged by each host before the kill: {acknowledged.Count} in all");

        // After a restart: every acknowledged event is stored, and resending one is a harmless duplicate.
        var (restarted, again) = Serve(db);
        try
        {
            using var http = new HttpClient { BaseAddress = again };
            await using (var store = await FeedbackStore.OpenAsync(db))
            {
                var stored = (await store.EventsAsync()).Select(e => e.EventId).ToHashSet();
                Assert.All(acknowledged, id => Assert.Contains(id, stored));
            }
            var (c, n) = acknowledged.Select(id => id.Split('-')).Select(p => (int.Parse(p[1]), int.Parse(p[2]))).Last();
            using var resend = await http.PostAsJsonAsync("/v1/feedback", Event(c, n));
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
            Assert.Contains("\"duplicate\"", await resend.Content.ReadAsStringAsync());
        }
        finally
        {
            restarted.Kill();
            restarted.WaitForExit();
            restarted.Dispose();
        }
    }
}
