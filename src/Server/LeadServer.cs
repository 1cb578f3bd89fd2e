using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace LeadEngine.Server;

/// <summary>
/// The scoring service a CRM talks to (ASP.NET Core on Kestrel), JSON over HTTP. This class is the hosting: Kestrel, TLS,
/// the middleware (<see cref="ProblemResponses"/>, <see cref="KeyCheck"/>, metrics) and one endpoint group per resource:
/// <list type="bullet">
/// <item><see cref="ScoreEndpoints"/>: <c>POST /v1/score</c>, one lead (an object in the lead schema) or a list → scores; every score served is stored.</item>
/// <item><see cref="CallListEndpoints"/>: <c>GET /v1/call-list?k=K</c>, the K best open leads, each with its propensity and the policy version; the list is stored.</item>
/// <item><see cref="FeedbackEndpoints"/>: <c>POST /v1/feedback</c>, one outcome event or a list → 202 once committed; resending an event is harmless.</item>
/// <item><see cref="LeadEndpoints"/>: <c>GET /v1/leads/{id}</c>, what the store holds about a lead.</item>
/// <item><see cref="HealthEndpoints"/>: <c>GET /healthz</c>; and <c>GET /metrics</c> (Prometheus), <c>GET /openapi/v1.json</c>.</item>
/// </list>
/// The model being served is swapped whole by <see cref="SwapAsync"/> (<see cref="ServedModel"/>). Errors are RFC 7807
/// problem documents with the field at fault in <c>field</c>.
/// </summary>
public sealed class LeadServer : IAsyncDisposable
{
    /// <summary>The response header naming the weights that served it (their hash, as in every score).</summary>
    public const string ModelHeader = "LeadEngine-Model";

    /// <summary>The response header naming the version of the store's model history that served it (absent when not from one).</summary>
    public const string VersionHeader = "LeadEngine-Model-Version";

    private readonly WebApplication _app;
    private readonly ServiceContext _service;
    private readonly KeyCheck? _keys;

    private LeadServer(LeadScorer scorer, FeedbackStore store, ServeOptions options, string? versionId)
    {
        if (!options.LoopbackOnly && !options.RequireKeys)
            throw new ArgumentException($"listening on {options.Host} (beyond this machine) needs API keys (--require-keys): lead data is personal data");
        var posterior = options.Policy.NeedsPosterior ? new CallListPosterior(scorer.FeatureEncoder) : null;
        var metrics = new ServerMetrics(scorer.ModelVersion, ServedModel.PolicyVersionOf(options, scorer));
        var timing = options.Timing is { } t ? new CallTiming(t, scorer.FeatureEncoder) : null;
        _service = new ServiceContext(store, options, metrics, new ServedModel(scorer, versionId, metrics, options), posterior, timing);
        _keys = options.RequireKeys ? new KeyCheck(store, options) : null;
        var builder = WebApplication.CreateSlimBuilder();
        // Warnings only, and no request logging: lead columns and dialogue never reach a log.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        string scheme = options.TlsCertificate is null ? "http" : "https";
        builder.WebHost.UseUrls($"{scheme}://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Limits.MaxRequestLineSize = ProblemResponses.KestrelRequestLine;
            if (options.TlsCertificate is { } certificate) k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });
        builder.Services.AddProblemDetails();
        // The OpenAPI document describes the bodies with the names they are served with.
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = ServiceContext.Json.PropertyNamingPolicy;
            o.SerializerOptions.NumberHandling = ServiceContext.Json.NumberHandling;
        });
        builder.Services.AddOpenApi(OpenApiDescriptions.DescribeProblemField);
        _app = builder.Build();
        var problems = new ProblemResponses(_service);
        _app.UseHttpMetrics(o => o.SetMetricFactory(metrics.Factory));
        _app.Use(problems.NameTheModel);
        _app.Use(problems.RefuseAsProblem);
        _app.Use(problems.NoRouteAsProblem);
        _app.Use(problems.RefuseLongTarget);
        if (_keys is not null) _app.Use(_keys.InvokeAsync);
        var v1 = _app.MapGroup("/v1");
        ScoreEndpoints.Map(v1, _service);
        CallListEndpoints.Map(v1, _service);
        FeedbackEndpoints.Map(v1, _service);
        LeadEndpoints.Map(v1, _service);
        HealthEndpoints.Map(_app, _service, () => LastHistoryCheck);
        _app.MapOpenApi();
        _app.MapMetrics("/metrics", metrics.Registry);
    }

    /// <summary>
    /// Starts serving <paramref name="scorer"/> with <paramref name="store"/>; the server owns
    /// neither. Returns once it listens.
    /// </summary>
    /// <param name="scorer">The model to serve.</param>
    /// <param name="store">Where scores, call lists and outcomes are kept.</param>
    /// <param name="options">Service settings.</param>
    /// <param name="versionId">The scorer's version in the store's model history (<see cref="ModelFollower"/>); null when it is not from one.</param>
    /// <param name="cancel">Cancels the start.</param>
    public static async Task<LeadServer> StartAsync(LeadScorer scorer, FeedbackStore store, ServeOptions options, string? versionId = null,
        CancellationToken cancel = default)
    {
        var server = new LeadServer(scorer, store, options, versionId);
        try
        {
            if (server._service.Posterior is { } posterior) await posterior.FitAsync(store, cancel);
            if (server._service.Timing is { } timing) await timing.FitAsync(store, cancel);
            try
            {
                await server._app.StartAsync(cancel);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // Port in use, an address this machine does not have: one line for whoever started it, not Kestrel's stack.
                throw new IOException($"cannot listen on {options.Host} port {options.Port}: {(e.InnerException ?? e).Message}", e);
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The policy and model that choose call lists, e.g. <c>greedy@MODELVERSION</c> or <c>epsilon-greedy(0.1)@MODELVERSION</c>.</summary>
    public string PolicyVersion => _service.Model.PolicyVersionOf(Scorer);

    /// <summary>The scorer being served.</summary>
    public LeadScorer Scorer => _service.Model.Current.Scorer;

    /// <summary>The served scorer's version in the store's model history; null when it is not from one.</summary>
    public string? VersionId => _service.Model.Current.VersionId;

    /// <summary>The last check of the store's model history (<see cref="ModelFollower"/>), for <c>/healthz</c>.</summary>
    internal (string InForce, DateTimeOffset At, string? Problem)? LastHistoryCheck { get; set; }

    /// <summary>Final outcomes the Thompson posterior has learned; null without one.</summary>
    public int? PosteriorObservations => _service.Posterior?.Observations;

    /// <summary>Call attempts the pick-up model has learned; null with timing off.</summary>
    public int? TimingAttempts => _service.Timing?.Attempts;

    /// <summary>
    /// Serves <paramref name="next"/> from now on (a promoted version): new requests go to it, the
    /// previous scorer's queue finishes what it holds, and the previous scorer is returned, no longer
    /// used, for its owner to dispose.
    /// </summary>
    /// <param name="next">The scorer to serve.</param>
    /// <param name="versionId">Its version in the store's model history; null when it is not from one.</param>
    public Task<LeadScorer> SwapAsync(LeadScorer next, string? versionId = null) => _service.Model.SwapAsync(next, versionId);

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:8080</c> (the real port when started with port 0).</summary>
    public Uri Address
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First());
        }
    }

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl+C).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops listening, lets queued scoring finish, and stops the engine thread.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _service.Model.Dispose();
        _keys?.Dispose();
    }
}
