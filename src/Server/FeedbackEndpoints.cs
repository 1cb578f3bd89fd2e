using LeadEngine.Feedback;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace LeadEngine.Server;

/// <summary><c>POST /v1/feedback</c>: one outcome event or a list → 202 once committed; resending an event is harmless.</summary>
internal static class FeedbackEndpoints
{
    /// <summary>Maps the resource onto the <c>/v1</c> group.</summary>
    public static void Map(IEndpointRouteBuilder v1, ServiceContext service) =>
        v1.MapPost("/feedback", (Delegate)((HttpContext context) => FeedbackAsync(service, context)))
            .WithSummary("One outcome event (event_id, lead_id, kind, at, optional call_seconds, note and answered) or a list: 202 once committed")
            .Produces<FeedbackBody>(StatusCodes.Status202Accepted)
            .Refusals(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType)
            .OneOrListBody("one outcome event or a list of up to 1,000", OpenApiDescriptions.Event());

    private static async Task<JsonHttpResult<FeedbackBody>> FeedbackAsync(ServiceContext service, HttpContext context)
    {
        RequestReader.OnlyQuery(context.Request);
        using var body = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted);
        var (items, _) = RequestReader.OneOrList(body.RootElement, "event", service.Options.MaxEventsPerRequest);
        var events = items.Select(i => RequestReader.Event(i.Item, i.Path)).ToList();
        IReadOnlyList<EventStatus> statuses;
        try
        {
            statuses = await service.Store.AddEventsAsync(events, DateTimeOffset.UtcNow, context.RequestAborted, service.Timing?.Options.MaxUnansweredAttempts);
        }
        catch (UnknownLeadException e)
        {
            throw new RequestException(StatusCodes.Status404NotFound, $"{items[events.FindIndex(x => x.LeadId == e.LeadId)].Path}.lead_id", e.Message);
        }
        catch (EventConflictException e)
        {
            throw new RequestException(StatusCodes.Status409Conflict, $"{items[events.FindIndex(x => x.EventId == e.EventId)].Path}.event_id", e.Message);
        }
        var newlyStored = events.Zip(statuses).Where(p => p.Second == EventStatus.Stored).Select(p => p.First).ToList();
        if (service.Posterior is not null) await service.Posterior.LearnAsync(service.Store, newlyStored, context.RequestAborted);
        if (service.Timing is not null) await service.Timing.LearnAsync(service.Store, newlyStored, context.RequestAborted);
        int stored = statuses.Count(s => s == EventStatus.Stored);
        service.Metrics.FeedbackEvents.WithLabels("stored").Inc(stored);
        service.Metrics.FeedbackEvents.WithLabels("duplicate").Inc(statuses.Count - stored);
        return TypedResults.Json(new FeedbackBody(stored, statuses.Count - stored,
            events.Zip(statuses, (e, s) => new EventStatusBody(e.EventId, s == EventStatus.Stored ? "stored" : "duplicate")).ToList()), ServiceContext.Json,
            statusCode: StatusCodes.Status202Accepted);
    }
}
