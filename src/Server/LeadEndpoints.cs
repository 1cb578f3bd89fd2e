using LeadEngine.Feedback;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using System.Text.Json;

namespace LeadEngine.Server;

/// <summary><c>GET /v1/leads/{id}</c>: what the store holds about a lead.</summary>
internal static class LeadEndpoints
{
    /// <summary>Maps the resource onto the <c>/v1</c> group.</summary>
    public static void Map(IEndpointRouteBuilder v1, ServiceContext service) =>
        v1.MapGet("/leads/{id}", (string id, HttpContext context) => LeadAsync(service, id, context))
            .WithSummary("A scored lead's columns, latest score, outcome events, listings, call windows and call attempts")
            .Produces<LeadBody>().Refusals(StatusCodes.Status404NotFound);

    private static async Task<JsonHttpResult<LeadBody>> LeadAsync(ServiceContext service, string id, HttpContext context)
    {
        var record = await service.Store.LeadAsync(id, context.RequestAborted)
            ?? throw new RequestException(StatusCodes.Status404NotFound, "id", $"lead '{id}' is not known: score it first (POST /v1/score)");
        using var fields = JsonDocument.Parse(record.Fields);
        var events = record.Events.Select(e => (Event: e, Body: new EventBody(e.EventId, e.LeadId, e.Kind.Name(), e.At, e.CallSeconds, e.Note, e.Answered))).ToList();
        return TypedResults.Json(new LeadBody(record.LeadId, fields.RootElement.Clone(), record.FirstSeen, record.LastScored, ScoreFields.Of(record.LastScore),
            record.Recommendations, events.Select(e => e.Body).ToList(), record.Windows.Select(w => CallWindowBody.Of(w)!).ToList(),
            events.Where(e => e.Event.Attempt is not null).Select(e => e.Body with { Answered = e.Event.Attempt }).ToList()), ServiceContext.Json);
    }
}
