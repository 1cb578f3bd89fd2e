using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace LeadEngine.Server;

/// <summary><c>GET /healthz</c>: the model and policy versions, the store's state, the queue depth and the model history's last check.</summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app, ServiceContext service, Func<(string InForce, DateTimeOffset At, string? Problem)?> lastHistoryCheck) =>
        app.MapMethods("/healthz", ["GET", "HEAD"], (Delegate)((HttpContext context) => HealthAsync(service, lastHistoryCheck(), context)))
            .WithSummary("The model and policy versions, and whether the store takes writes")
            .Produces<HealthBody>().Produces<HealthBody>(StatusCodes.Status503ServiceUnavailable);

    private static async Task<JsonHttpResult<HealthBody>> HealthAsync(ServiceContext service, (string InForce, DateTimeOffset At, string? Problem)? check,
        HttpContext context)
    {
        var store = service.Store;
        string? problem = await store.ProblemAsync(context.RequestAborted);
        bool database = problem is null;
        var current = service.Model.Current;
        return TypedResults.Json(new HealthBody(database ? "ok" : $"the feedback store cannot take writes: {problem}", current.Scorer.ModelVersion,
            service.Model.PolicyVersionOf(current.Scorer), store.SchemaVersion, store.Description, current.Queue.QueuedLeads,
            current.VersionId is { } id && check is { } c ? new HistoryBody(id, c.InForce, c.At, c.Problem) : null), ServiceContext.Json,
            statusCode: database ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
