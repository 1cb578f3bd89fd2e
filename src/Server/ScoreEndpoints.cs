using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace LeadEngine.Server;

/// <summary><c>POST /v1/score</c>: one lead or a list → scores (and with <c>?explain=true</c> their reasons); every score served is stored.</summary>
internal static class ScoreEndpoints
{
    /// <summary>Maps the resource onto the <c>/v1</c> group.</summary>
    public static void Map(IEndpointRouteBuilder v1, ServiceContext service)
    {
        // Request bodies are described in words, not with Accepts<T>: that metadata makes routing refuse other media types with
        // an empty 415 before RequestReader can name the field in a problem document.
        v1.MapPost("/score", (Delegate)((HttpContext context) => ScoreAsync(service, context)))
            .WithSummary("Scores one lead (an object: lead_id, created_at, the feature columns, dialogue), or a list of up to 1,000 ({model_version, scores: [...]}); ?explain=true adds reasons")
            .OneOrListResponse<ScoredLeadBody, ScoreListBody>()
            .Refusals(StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType)
            .Query("explain", JsonSchemaType.Boolean, required: false, "true: add each lead's reasons_up and reasons_down (one forward pass per column and dialogue sentence)")
            .OneOrListBody("one lead, answered with its score, or a list of up to 1,000, answered with {model_version, scores}", OpenApiDescriptions.Lead());
    }

    private static async Task<Results<JsonHttpResult<ScoreListBody>, JsonHttpResult<ScoredLeadBody>>> ScoreAsync(ServiceContext service, HttpContext context)
    {
        var options = service.Options;
        RequestReader.OnlyQuery(context.Request, "explain");
        using var body = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted);
        var (items, isList) = RequestReader.OneOrList(body.RootElement, "lead", options.MaxLeadsPerRequest);
        var leads = items.Select(i => RequestReader.Lead(i.Item, i.Path, service.Model.Current.Scorer.Schema)).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < leads.Count; i++)
            if (!seen.Add(leads[i].Id)) throw new RequestException(StatusCodes.Status400BadRequest, $"{items[i].Path}.lead_id", $"lead '{leads[i].Id}' appears twice in this request");
        bool explain = context.Request.Query["explain"].ToString() switch
        {
            "" or "false" or "0" => false,
            "true" or "1" => true,
            var other => throw new RequestException(StatusCodes.Status400BadRequest, "explain", $"expected true or false, got '{other}'"),
        };
        // Counted before any work: the variants of a long dialogue take memory quadratic in its length.
        int parts = explain ? ScoreExplanations.PartCount(leads) : 0;
        if (parts > options.MaxExplainParts)
            throw new RequestException(StatusCodes.Status413PayloadTooLarge, "explain",
                $"explaining these leads leaves out {parts} parts (feature columns and dialogue sentences), one forward pass each; at most {options.MaxExplainParts} per request");
        // An explanation reserves its whole cost in the queue before any work starts, or is 503 at once; one at a time per key.
        using var keyClaim = explain ? service.ClaimExplanation(context.Items[KeyCheck.KeyNameItem] as string) : null;
        using var reservation = explain ? service.Model.ReserveExplanation(leads.Count + parts) : null;
        var (scorer, scores) = await service.Model.ScoreAsync(leads, admit: true, context.RequestAborted, reservation);
        string version = scorer.ModelVersion;
        var served = scores.Select(s => AsServed(s, version)).ToList();
        await service.Store.RecordScoresAsync(leads.Zip(served).ToList(), DateTimeOffset.UtcNow, context.RequestAborted);
        var explained = explain ? await ExplainAsync(service, scorer, leads, scores, reservation!, context.RequestAborted) : null;
        var bodies = served.Select((s, i) => new ScoredLeadBody(ScoreFields.Of(s), scores[i].YesProbability,
            explained?[i].Positive.Select(ReasonBody.Of).ToList(), explained?[i].Negative.Select(ReasonBody.Of).ToList())).ToList();
        return isList ? TypedResults.Json(new ScoreListBody(version, bodies), ServiceContext.Json) : TypedResults.Json(bodies[0], ServiceContext.Json);
    }

    /// <summary>
    /// Reasons by occlusion (<see cref="ScoreExplanations.ExplainAsync"/>): one forward pass per column and dialogue sentence, through the
    /// scoring queue like every other forward pass (in batches, beside other requests), dropped when the client leaves; the leads' own
    /// scores are those already served.
    /// </summary>
    private static Task<IReadOnlyList<LeadExplanation>> ExplainAsync(ServiceContext service, LeadScorer scorer, IReadOnlyList<Lead> leads,
        IReadOnlyList<LeadScore> scores, ScoringQueue.Reservation reservation, CancellationToken cancel) =>
        ScoreExplanations.ExplainAsync(leads, scores, async variants =>
        {
            var (variantScorer, variantScores) = await service.Model.ScoreAsync(variants, admit: false, cancel, reservation);
            if (variantScorer != scorer)
                throw new RequestException(StatusCodes.Status503ServiceUnavailable, "$", "a new model version was promoted while explaining; retry");
            return variantScores;
        });

    /// <summary>A score as the store keeps it and every endpoint serves it.</summary>
    internal static ServedScore AsServed(LeadScore s, string version) => new(s.LeadId, version, s.Probability, s.RankingScore, s.Score, s.Grade);
}
