using LeadEngine.Feedback;
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
            .WithSummary("K open leads chosen and claimed by the serving policy, each with its propensity (?k=K)")
            .Produces<CallListBody>().Refusals()
            .Query("k", JsonSchemaType.Integer, required: true, "how many leads to list");
    }

    /// <summary>
    /// K open leads chosen by the serving policy from their probabilities, each with its propensity
    /// (the probability that the policy lists it), all recorded. Leads last scored by another model
    /// version are scored again first, so the list ranks by the scores this model gives. The choice is a
    /// claim (<see cref="FeedbackStore.ClaimCallListAsync"/>): it is made among the leads still open when no
    /// other list is being claimed, on this host or another, so no lead goes to two reps within the cool-down.
    /// </summary>
    private static async Task<JsonHttpResult<CallListBody>> CallListAsync(ServiceContext service, Random? seeded, HttpContext context)
    {
        var options = service.Options;
        int k = RequestReader.QueryInt(context.Request, "k", 1, options.MaxCallList);
        var now = DateTimeOffset.UtcNow;
        var model = service.Model.Current.Scorer;
        string policyVersion = service.Model.PolicyVersionOf(model);
        var candidates = await service.Store.CallCandidatesAsync(now - options.CallListCooldown, context.RequestAborted);
        var current = candidates.Where(c => c.LastScore.ModelVersion == model.ModelVersion).Select(c => c.LastScore).ToList();
        var stale = candidates.Where(c => c.LastScore.ModelVersion != model.ModelVersion).Select(c => StoredLead.FromJson(c.Fields)).ToList();
        if (stale.Count > 0)
        {
            var (scorer, scores) = await service.Model.ScoreAsync(stale, admit: false);
            var rescored = scores.Select(s => ScoreEndpoints.AsServed(s, scorer.ModelVersion)).ToList();
            await service.Store.RecordScoresAsync(stale.Zip(rescored).ToList(), now, context.RequestAborted);
            current.AddRange(rescored);
        }
        current.Sort((a, b) => a.Probability != b.Probability ? b.Probability.CompareTo(a.Probability) : string.CompareOrdinal(a.LeadId, b.LeadId));
        var fields = candidates.ToDictionary(c => c.LastScore.LeadId, c => c.Fields, StringComparer.Ordinal);
        string listId = Guid.NewGuid().ToString("N");
        List<(ServedScore Score, double Propensity)> chosen = [];
        int open = 0;
        await service.Store.ClaimCallListAsync(now - options.CallListCooldown, stillOpen =>
        {
            // Leads another list claimed since they were read are not candidates any more.
            var available = current.Where(s => stillOpen.Contains(s.LeadId)).ToList();
            var probabilities = service.Posterior is null
                ? new CandidateSet(available.Select(s => s.Probability).ToList())
                : service.Posterior.Candidates(available.Select(s => (StoredLead.FromJson(fields[s.LeadId]), s.Probability)).ToList());
            CallList list;
            if (seeded is null) list = options.Policy.Choose(probabilities, k, Random.Shared);
            else lock (seeded) list = options.Policy.Choose(probabilities, k, seeded);
            chosen = list.Chosen.Select(i => (Score: available[i], Propensity: list.Inclusion[i])).ToList();
            open = available.Count;
            return (chosen.Select((c, i) => new Recommendation(listId, c.Score.LeadId, i + 1, policyVersion, c.Propensity, c.Score.Probability, now)).ToList(),
                available.Select((s, i) => new ListCandidate(listId, s.LeadId, s.Probability, list.Inclusion[i])).ToList());
        }, context.RequestAborted);
        service.Metrics.Recommendations.Inc(chosen.Count);
        return TypedResults.Json(new CallListBody(listId, options.Policy.Name, policyVersion, model.ModelVersion, now, k, open,
            chosen.Select((c, i) => new CallListEntryBody(ScoreFields.Of(c.Score), i + 1, c.Propensity, policyVersion)).ToList()), ServiceContext.Json);
    }
}
