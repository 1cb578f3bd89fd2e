using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace LeadEngine.Server;

/// <summary><c>GET /v1/call-list?k=K</c>: the K open leads the serving policy chooses, each with its propensity; the list is claimed and stored.</summary>
internal static class CallListEndpoints
{
    /// <summary>Maps the resource onto the <c>/v1</c> group.</summary>
    public static void Map(IEndpointRouteBuilder v1, ServiceContext service)
    {
        // One draw source for every list: seeded (tests, replays) or shared.
        var seeded = service.Options.Seed is { } seed ? new Random(seed) : null;
        v1.MapGet("/call-list", (Delegate)((HttpContext context) => CallListAsync(service, seeded, context)))
            .WithSummary("K open leads chosen and claimed by the serving policy, each with its propensity and, timing on, its call window (?k=K&from=&until=)")
            .Produces<CallListBody>().Refusals()
            .Query("k", JsonSchemaType.Integer, required: true, "how many leads to list")
            .Query("from", JsonSchemaType.String, required: false, "timing: the call windows' horizon starts here (RFC 3339; default now)")
            .Query("until", JsonSchemaType.String, required: false, "timing: the horizon ends here (default from + 24 h)");
    }

    /// <summary>
    /// K open leads chosen by the serving policy from their probabilities, each with its propensity (the probability that the
    /// policy lists it), all recorded. The choice is a claim (<see cref="FeedbackStore.ClaimCallListAsync"/>) among a pool of the
    /// open leads (<see cref="CallPool"/>: the best by last score and a sample of the rest, <see cref="CallPoolSize.For"/>), read
    /// when no other list is being claimed, on this host or another, so no lead goes to two reps within the cool-down. Pool
    /// leads last scored by another model version are scored again first, so the list ranks by the scores this model gives.
    /// A lead's propensity is its chance of being in the pool times the policy's inclusion given the pool. With timing on, each
    /// listed lead gets its window in the horizon [<c>from</c>, <c>until</c>) (<see cref="CallTiming"/>), planned in the same claim, so
    /// two lists never fill one window past its capacity.
    /// </summary>
    private static async Task<JsonHttpResult<CallListBody>> CallListAsync(ServiceContext service, Random? seeded, HttpContext context)
    {
        var options = service.Options;
        int k = RequestReader.QueryInt(context.Request, "k", 1, options.MaxCallList, "from", "until");
        var now = DateTimeOffset.UtcNow;
        var timing = service.Timing;
        var horizon = timing is null ? ((DateTimeOffset, DateTimeOffset)?)null : Horizon(context.Request, now, timing.Options.Horizon);
        var model = service.Model.Current.Scorer;
        string policyVersion = service.Model.PolicyVersionOf(model);
        string listId = Guid.NewGuid().ToString("N");
        var rng = seeded ?? Random.Shared;
        double windowStart;
        lock (rng) windowStart = rng.NextDouble();
        List<(ServedScore Score, double Propensity)> chosen = [];
        IReadOnlyList<CallWindow?>? planned = null;
        CallPool? read = null;
        await service.Store.ClaimCallListAsync(CallPoolSize.For(k), now, now - options.CallListCooldown, windowStart, async (pool, cancel) =>
        {
            read = pool;
            var stale = pool.Leads.Where(c => c.LastScore.ModelVersion != model.ModelVersion).Select(c => StoredLead.FromJson(c.Fields)).ToList();
            var rescored = new Dictionary<string, ServedScore>(StringComparer.Ordinal);
            if (stale.Count > 0)
            {
                var (scorer, scores) = await service.Model.ScoreAsync(stale, admit: false);
                foreach (var s in scores) rescored[s.LeadId] = ScoreEndpoints.AsServed(s, scorer.ModelVersion);
            }
            var candidates = pool.Leads.Select(c => (Candidate: c, Score: rescored.GetValueOrDefault(c.LastScore.LeadId) ?? c.LastScore))
                .OrderByDescending(c => c.Score.Probability).ThenBy(c => c.Score.LeadId, StringComparer.Ordinal).ToList();
            // Each candidate's columns are parsed once, and only where the posterior or the plan reads them.
            var leads = new Lead?[candidates.Count];
            Lead LeadAt(int i) => leads[i] ??= StoredLead.FromJson(candidates[i].Candidate.Fields);
            var probabilities = service.Posterior is null
                ? new CandidateSet(candidates.Select(c => c.Score.Probability).ToList())
                : service.Posterior.Candidates(candidates.Select((c, i) => (LeadAt(i), c.Score.Probability)).ToList());
            CallList list;
            lock (rng) list = options.Policy.Choose(probabilities, k, rng);
            var propensities = candidates.Select((c, i) => c.Candidate.PoolInclusion * list.Inclusion[i]).ToList();
            chosen = list.Chosen.Select(i => (candidates[i].Score, propensities[i])).ToList();
            if (timing is not null && horizon is var (from, until))
            {
                var listed = list.Chosen.Select(i => (LeadAt(i), candidates[i].Score.Probability, candidates[i].Candidate.LastUnansweredAt)).ToList();
                var windows = timing.Windows(from, until, pool.Planned ?? new Dictionary<DateTimeOffset, int>());
                lock (rng) planned = timing.Plan(listed, windows, rng);
            }
            return new CallListClaim(
                chosen.Select((c, i) => new Recommendation(listId, c.Score.LeadId, i + 1, policyVersion, c.Propensity, c.Score.Probability, now,
                    planned?[i])).ToList(),
                candidates.Select((c, i) => new ListCandidate(listId, c.Score.LeadId, c.Score.Probability, propensities[i])).ToList(),
                stale.Select(l => (l, rescored[l.Id])).ToList());
        }, context.RequestAborted, horizon);
        service.Metrics.Recommendations.Inc(chosen.Count);
        return TypedResults.Json(new CallListBody(listId, options.Policy.Name, policyVersion, model.ModelVersion, now, k, read!.OpenLeads, read.Leads.Count,
            chosen.Select((c, i) => new CallListEntryBody(ScoreFields.Of(c.Score), i + 1, c.Propensity, policyVersion, CallWindowBody.Of(planned?[i]))).ToList()),
            ServiceContext.Json);
    }

    /// <summary>The windows' horizon: <c>from</c> (default now) to <c>until</c> (default <paramref name="length"/> later, at most 14 days).</summary>
    private static (DateTimeOffset From, DateTimeOffset Until) Horizon(HttpRequest request, DateTimeOffset now, TimeSpan length)
    {
        var from = RequestReader.QueryTime(request, "from") ?? now;
        var until = RequestReader.QueryTime(request, "until") ?? from + length;
        if (until <= from) throw new RequestException(StatusCodes.Status400BadRequest, "until", $"the horizon ends ({until:O}) at or before it starts ({from:O})");
        if (until - from > TimeSpan.FromDays(14)) throw new RequestException(StatusCodes.Status400BadRequest, "until", "the horizon is at most 14 days");
        return (from, until);
    }
}
