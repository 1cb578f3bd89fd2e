using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using LeadEngine.Feedback;

namespace LeadEngine.Tests.Serving;

/// <summary>
/// <c>leadengine serve</c> as its own process, killed with SIGKILL in the middle of a stream of
/// feedback: after a restart every event it acknowledged (202) is there.
/// </summary>
public sealed class KillTests(ServingFixture fixture) : IClassFixture<ServingFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-kill-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    /// <summary>Starts the service on a free port and returns it with its address once it listens.</summary>
    private (Process Process, Uri Address) Serve(string db, bool create = false)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "leadengine.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "serve", "--port", "0", "--adapter", fixture.AdapterDir, "--db", db, "--device", "cpu", .. create ? ["--create-db"] : Array.Empty<string>()])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Fixtures.RepoRoot,
        };
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        // Read standard output to its end in the background (a full pipe would stall the server), noting the address.
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
                if (line.StartsWith("listening on ", StringComparison.Ordinal)) listening.TrySetResult(new Uri(line["listening on ".Length..]));
            listening.TrySetException(new InvalidOperationException("serve exited before listening"));
        });
        try
        {
            if (listening.Task.Wait(TimeSpan.FromSeconds(90))) return (process, listening.Task.Result);
        }
        catch (AggregateException)
        {
            // reported below with the server's standard error
        }
        process.Kill();
        lock (stderr) throw new InvalidOperationException($"serve did not start: {stderr}");
    }

    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Client <paramref name="c"/>'s event <paramref name="i"/>: the same contents every time it is sent.</summary>
    private FeedbackBody Event(int c, int i) => new($"ev-{c}-{i}", fixture.Leads[i % 20].Id, "contacted", T0.AddSeconds(i), $"call {i}");

    private sealed record FeedbackBody(string event_id, string lead_id, string kind, DateTimeOffset at, string note);

    [Fact]
    public async Task AcknowledgedFeedbackSurvivesSigkill()
    {
        string db = Path.Combine(_dir, "feedback.db");
        var (server, address) = Serve(db, create: true);
        var acknowledged = new List<string>();
        try
        {
            using var http = new HttpClient { BaseAddress = address };
            var leads = fixture.Leads.Take(20).ToList();
            using (var scored = await http.PostAsync("/v1/score",
                new StringContent("[" + string.Join(",", leads.Select(StoredLead.ToJson)) + "]", Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.OK, scored.StatusCode);

            // Three clients stream events; the server is killed while they do, once 150 are acknowledged.
            using var stop = new CancellationTokenSource();
            int acks = 0;
            var streams = Enumerable.Range(0, 3).Select(c => Task.Run(async () =>
            {
                var acked = new List<string>();
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        using var response = await http.PostAsJsonAsync("/v1/feedback", Event(c, i));
                        if (response.StatusCode != HttpStatusCode.Accepted) continue;
                        acked.Add(Event(c, i).event_id);
                        Interlocked.Increment(ref acks);
                    }
                    catch (HttpRequestException)
                    {
                        break; // the server is gone
                    }
                }
                return acked;
            })).ToList();
            var until = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref acks) < 150 && DateTime.UtcNow < until) await Task.Delay(20);
            server.Kill(); // SIGKILL: no shutdown, no flush
            server.WaitForExit();
            await stop.CancelAsync();
            foreach (var stream in streams) acknowledged.AddRange(await stream);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
            server.Dispose();
        }
        Assert.True(acknowledged.Count >= 50, $"only {acknowledged.Count} events were acknowledged before the kill");

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
