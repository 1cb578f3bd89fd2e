using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace LeadEngine.Cli;

/// <summary>
/// A bounded loopback load test of the service: a few clients score leads one per request and
/// send outcome events for leads they scored, for a fixed time (beside them, optionally, clients asking for call lists back to back), then one call list is asked for.
/// Reports throughput and p50/p95/p99 latency per request kind.
/// </summary>
public static class LoadTest
{
    /// <summary>Runs the test against <see cref="LoadTestOptions.Target"/> with <paramref name="leads"/> (scored in turn).</summary>
    public static async Task<IReadOnlyList<LoadTestLine>> RunAsync(LoadTestOptions options, IReadOnlyList<Lead> leads, CancellationToken cancel = default)
    {
        if (!IsLoopback(options.Target)) throw new ArgumentException($"load test target {options.Target} is not a loopback address; the load test only runs against this machine");
        if (leads.Count == 0) throw new ArgumentException("the load test needs leads to score");
        var bodies = leads.Select(StoredLead.ToJson).ToArray();
        string run = Guid.NewGuid().ToString("N")[..8]; // event ids unique across runs against the same store
        var clock = Stopwatch.StartNew();
        var deadline = clock.Elapsed + options.Duration;
        var runs = Enumerable.Range(0, options.Clients).Select(c => Task.Run(() => ClientAsync(options, $"{run}-{c}", c, bodies, leads, clock, deadline, cancel), cancel))
            .Concat(Enumerable.Range(0, options.CallListClients).Select(_ => Task.Run(() => CallListClientAsync(options, clock, deadline, cancel), cancel))).ToList();
        var samples = (await Task.WhenAll(runs)).SelectMany(s => s).ToList();
        double seconds = clock.Elapsed.TotalSeconds;
        using (var http = Client(options.Target))
            samples.Add(await CallListAsync(http, options.CallListSize, clock, cancel));
        return samples.GroupBy(s => s.Kind).Select(g =>
        {
            var ms = g.Where(s => s.Ok).Select(s => s.Ms).Order().ToArray();
            return new LoadTestLine(g.Key, g.Count(), g.Count(s => !s.Ok), g.Key == "call-list" && options.CallListClients == 0 ? double.NaN : g.Count() / seconds,
                Percentile(ms, 0.50), Percentile(ms, 0.95), Percentile(ms, 0.99));
        }).OrderBy(l => l.Kind).ToList();
    }

    private static async Task<List<(string Kind, double Ms, bool Ok)>> ClientAsync(LoadTestOptions options, string name, int client, string[] bodies, IReadOnlyList<Lead> leads,
        Stopwatch clock, TimeSpan deadline, CancellationToken cancel)
    {
        var rng = new Random(options.Seed * 1000 + client);
        var samples = new List<(string, double, bool)>();
        var scored = new List<string>();
        using var http = Client(options.Target);
        for (int i = 0; i < options.MaxRequestsPerClient && clock.Elapsed < deadline && !cancel.IsCancellationRequested; i++)
        {
            var start = clock.Elapsed;
            bool feedback = scored.Count > 0 && rng.NextDouble() < options.FeedbackShare;
            bool ok;
            try
            {
                ok = feedback ? await SendFeedbackAsync(http, $"load-{name}-{i}", scored[rng.Next(scored.Count)], rng, cancel)
                    : await ScoreAsync(http, bodies, leads, (client + i * options.Clients) % bodies.Length, scored, cancel);
            }
            catch (Exception e) when (e is HttpRequestException || e is TaskCanceledException && !cancel.IsCancellationRequested)
            {
                ok = false; // not answered (refused, reset or timed out): a failure, not the end of the test
            }
            string kind = feedback ? "feedback" : "score";
            samples.Add((kind, (clock.Elapsed - start).TotalMilliseconds, ok));
        }
        return samples;
    }

    private static async Task<List<(string Kind, double Ms, bool Ok)>> CallListClientAsync(LoadTestOptions options, Stopwatch clock, TimeSpan deadline,
        CancellationToken cancel)
    {
        var samples = new List<(string, double, bool)>();
        using var http = Client(options.Target);
        while (clock.Elapsed < deadline && !cancel.IsCancellationRequested) samples.Add(await CallListAsync(http, options.CallListSize, clock, cancel));
        return samples;
    }

    private static async Task<(string Kind, double Ms, bool Ok)> CallListAsync(HttpClient http, int k, Stopwatch clock, CancellationToken cancel)
    {
        var start = clock.Elapsed;
        using var response = await http.GetAsync($"/v1/call-list?k={k}", cancel);
        return ("call-list", (clock.Elapsed - start).TotalMilliseconds, response.StatusCode == HttpStatusCode.OK);
    }

    private static async Task<bool> SendFeedbackAsync(HttpClient http, string eventId, string leadId, Random rng, CancellationToken cancel)
    {
        var e = new { event_id = eventId, lead_id = leadId, kind = OutcomeKinds.Names[rng.Next(OutcomeKinds.Names.Count)], at = DateTimeOffset.UtcNow };
        using var response = await http.PostAsJsonAsync("/v1/feedback", e, cancel);
        return response.StatusCode == HttpStatusCode.Accepted;
    }

    private static async Task<bool> ScoreAsync(HttpClient http, string[] bodies, IReadOnlyList<Lead> leads, int index, List<string> scored, CancellationToken cancel)
    {
        using var content = new StringContent(bodies[index], Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/v1/score", content, cancel);
        if (response.StatusCode != HttpStatusCode.OK) return false;
        scored.Add(leads[index].Id);
        return true;
    }

    private static HttpClient Client(Uri target) => new() { BaseAddress = target, Timeout = TimeSpan.FromSeconds(60) };

    private static bool IsLoopback(Uri target) =>
        target.IsLoopback || IPAddress.TryParse(target.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
