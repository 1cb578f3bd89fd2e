using LeadEngine.Feedback;
using Microsoft.AspNetCore.Http;
using System.Globalization;

namespace LeadEngine.Server;

/// <summary>The middleware every response passes: it names the model that answered, and turns every failure into a problem document.</summary>
internal sealed class ProblemResponses(ServiceContext service)
{
    /// <summary>
    /// Every failure becomes a problem document with its real status, inside the metrics middleware so that
    /// <c>/metrics</c> counts it under that status: a <see cref="RequestException"/> names the field; a store that
    /// cannot be reached or written is 503 (nothing was acknowledged); a request Kestrel gave up on keeps its status
    /// (408, 413); anything else is 500 with a message, never an empty body.
    /// </summary>
    public async Task RefuseAsProblem(HttpContext context, RequestDelegate next)
    {
        var rejected = service.Metrics.Rejected;
        try
        {
            await next(context);
        }
        catch (RequestException e)
        {
            rejected.WithLabels(e.Status.ToString(CultureInfo.InvariantCulture)).Inc();
            await Problem(context, e.Status, e.Field, e.Message);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or FeedbackStoreException)
        {
            rejected.WithLabels("503").Inc();
            await Problem(context, StatusCodes.Status503ServiceUnavailable, "$", $"the feedback store cannot be reached or written, so nothing was stored: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            rejected.WithLabels(e.StatusCode.ToString(CultureInfo.InvariantCulture)).Inc();
            await Problem(context, e.StatusCode, "$", e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left: there is no one to answer.
        }
        catch (Exception e)
        {
            rejected.WithLabels("500").Inc();
            await Problem(context, StatusCodes.Status500InternalServerError, "$", $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Every response, problem documents included, says which model answered: the one serving when its headers are
    /// sent (set then, because a problem document clears the headers set before).
    /// </summary>
    public Task NameTheModel(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            var served = service.Model.Current;
            context.Response.Headers[LeadServer.ModelHeader] = served.Scorer.ModelVersion;
            if (served.VersionId is { } id) context.Response.Headers[LeadServer.VersionHeader] = id;
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <summary>The longest request target (path and query) served: Kestrel reads lines up to <see cref="KestrelRequestLine"/>, so a longer target still gets a problem document.</summary>
    public const int MaxTarget = 8 * 1024, KestrelRequestLine = 64 * 1024;

    /// <summary>A request target over <see cref="MaxTarget"/> characters is 414 with a problem document (Kestrel's own 414 has no body).</summary>
    public Task RefuseLongTarget(HttpContext context, RequestDelegate next)
    {
        int length = (context.Request.Path.Value?.Length ?? 0) + (context.Request.QueryString.Value?.Length ?? 0);
        if (length <= MaxTarget) return next(context);
        service.Metrics.Rejected.WithLabels("414").Inc();
        return Problem(context, StatusCodes.Status414UriTooLong, "$", $"the request target is {length} characters; at most {MaxTarget}");
    }

    /// <summary>
    /// A 404 or 405 that routing left without a body (no such path; a method the path does not take) becomes a problem
    /// document like every other refusal.
    /// </summary>
    public async Task NoRouteAsProblem(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Response.HasStarted || context.Response.ContentLength > 0) return;
        int status = context.Response.StatusCode;
        if (status is not (StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)) return;
        service.Metrics.Rejected.WithLabels(status.ToString(CultureInfo.InvariantCulture)).Inc();
        string allow = context.Response.Headers.Allow.ToString();
        await Problem(context, status, "$", status == StatusCodes.Status404NotFound
            ? $"no endpoint at {context.Request.Path}: the service has /v1/score, /v1/call-list, /v1/feedback, /v1/leads/{{id}}, /healthz, /metrics and /openapi/v1.json"
            : $"{context.Request.Method} is not taken at {context.Request.Path}" + (allow.Length > 0 ? $": use {allow}" : ""), allow: allow);
    }

    private static Task Problem(HttpContext context, int status, string field, string detail, string? allow = null)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.Clear();
        context.Response.StatusCode = status;
        if (!string.IsNullOrEmpty(allow)) context.Response.Headers.Allow = allow;
        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests) context.Response.Headers.RetryAfter = "1";
        if (status == StatusCodes.Status401Unauthorized) context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["field"] = field }).ExecuteAsync(context);
    }
}
