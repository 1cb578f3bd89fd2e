using System.Globalization;
using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Feedback;
using LeadEngine.Learning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace LeadEngine.Server;

/// <summary>
/// The scoring service a CRM talks to (ASP.NET Core on Kestrel), JSON over HTTP:
/// <list type="bullet">
/// <item><c>POST /v1/score</c>: one lead (an object in the lead schema) or a list → scores; every score served is stored.</item>
/// <item><c>GET /v1/call-list?k=K</c>: the K best open leads, each with its propensity and the policy version; the list is stored.</item>
/// <item><c>POST /v1/feedback</c>: one outcome event or a list → 202 once committed; resending an event is harmless.</item>
/// <item><c>GET /v1/leads/{id}</c>: what the store holds about a lead.</item>
/// <item><c>GET /healthz</c>, <c>GET /metrics</c> (Prometheus).</item>
/// </list>
/// Errors are RFC 7807 problem documents with the field at fault in <c>field</c>.
/// </summary>
public sealed class LeadServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;
    /// <summary>The scorer being served, the queue that feeds it and its version in the store's model history (null when it is not from one); replaced whole by <see cref="SwapAsync"/>.</summary>
    private sealed record Served(LeadScorer Scorer, ScoringQueue Queue, string? VersionId);

    private Served _served;
    private readonly Random? _seeded;
    private readonly FeedbackStore _store;
    private readonly ServeOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly KeyCheck? _keys;
    /// <summary>Thompson sampling's posterior, when the policy draws from one; fitted on the store's outcomes at start, then on each new one.</summary>
    private readonly OutcomePosterior? _posterior;

    private LeadServer(LeadScorer scorer, FeedbackStore store, ServeOptions options, string? versionId)
    {
        if (!options.LoopbackOnly && !options.RequireKeys)
            throw new ArgumentException($"listening on {options.Host} (beyond this machine) needs API keys (--require-keys): lead data is personal data");
        _posterior = options.Policy.NeedsPosterior ? new OutcomePosterior(scorer.FeatureEncoder) : null;
        _store = store;
        _options = options;
        _metrics = new ServerMetrics(scorer.ModelVersion, PolicyVersionOf(scorer));
        _served = new Served(scorer, new ScoringQueue(scorer, _metrics, options.QueueCapacity), versionId);
        _seeded = options.Seed is { } seed ? new Random(seed) : null;
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
            if (options.TlsCertificate is { } certificate) k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });
        builder.Services.AddProblemDetails();
        // The OpenAPI document describes the bodies with the names they are served with.
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = Json.PropertyNamingPolicy;
            o.SerializerOptions.NumberHandling = Json.NumberHandling;
        });
        builder.Services.AddOpenApi();
        _app = builder.Build();
        _app.UseHttpMetrics(o => o.SetMetricFactory(_metrics.Factory));
        _app.Use(NameTheModel);
        _app.Use(RefuseAsProblem);
        if (_keys is not null) _app.Use(_keys.InvokeAsync);
        // Request bodies are described in words, not with Accepts<T>: that metadata makes routing refuse other media types with
        // an empty 415 before RequestReader can name the field in a problem document.
        _app.MapPost("/v1/score", (Delegate)ScoreAsync)
            .WithSummary("Scores one lead (an object: lead_id, created_at, the feature columns, dialogue), or a list of up to 1,000 ({model_version, scores: [...]}); ?explain=true adds reasons")
            .Produces<ScoredLeadBody>().ProducesProblem(StatusCodes.Status400BadRequest);
        _app.MapGet("/v1/call-list", (Delegate)CallListAsync).WithSummary("K open leads chosen and claimed by the serving policy, each with its propensity (?k=K)")
            .Produces<CallListBody>().ProducesProblem(StatusCodes.Status400BadRequest);
        _app.MapPost("/v1/feedback", (Delegate)FeedbackAsync)
            .WithSummary("One outcome event (event_id, lead_id, kind, at, optional call_seconds and note) or a list: 202 once committed")
            .Produces<FeedbackBody>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status400BadRequest);
        _app.MapGet("/v1/leads/{id}", LeadAsync).WithSummary("A scored lead's columns, latest score, outcome events and listings")
            .Produces<LeadBody>().ProducesProblem(StatusCodes.Status404NotFound);
        _app.MapMethods("/healthz", ["GET", "HEAD"], (Delegate)HealthAsync).WithSummary("The model and policy versions, and whether the store takes writes")
            .Produces<HealthBody>().Produces<HealthBody>(StatusCodes.Status503ServiceUnavailable);
        _app.MapOpenApi();
        _app.MapMetrics("/metrics", _metrics.Registry);
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
            if (server._posterior is not null)
            {
                var finals = (await store.EventsAsync(cancel)).Where(e => e.Kind.IsFinal()).ToList();
                var leads = await store.LeadSnapshotsAsync(finals.Select(e => e.LeadId), cancel);
                foreach (var e in finals)
                    if (leads.TryGetValue(e.LeadId, out var lead)) server.Observe(e, lead);
            }
            await server._app.StartAsync(cancel);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The policy and model that choose call lists, e.g. <c>greedy@MODELVERSION</c> or <c>epsilon-greedy(0.1)@MODELVERSION</c>.</summary>
    public string PolicyVersion => PolicyVersionOf(Current.Scorer);

    private string PolicyVersionOf(LeadScorer scorer) => $"{_options.Policy.Name}@{scorer.ModelVersion}";

    private Served Current => Volatile.Read(ref _served);

    /// <summary>The scorer being served.</summary>
    public LeadScorer Scorer => Current.Scorer;

    /// <summary>The served scorer's version in the store's model history; null when it is not from one.</summary>
    public string? VersionId => Current.VersionId;

    /// <summary>The last check of the store's model history (<see cref="ModelFollower"/>), for <c>/healthz</c>.</summary>
    internal (string InForce, DateTimeOffset At, string? Problem)? LastHistoryCheck { get; set; }

    /// <summary>Final outcomes the Thompson posterior has learned; null without one.</summary>
    public int? PosteriorObservations => _posterior?.Observations;

    /// <summary>Teaches the posterior a final outcome, with the lead's columns and probability as the store last served them.</summary>
    private void Observe(OutcomeEvent outcome, LeadSnapshot lead) =>
        _posterior!.Observe(StoredLead.FromJson(lead.Fields), lead.LastProbability, Rewards.Of(outcome.Kind));

    /// <summary>
    /// Serves <paramref name="next"/> from now on (a promoted version): new requests go to it, the
    /// previous scorer's queue finishes what it holds, and the previous scorer is returned, no longer
    /// used, for its owner to dispose.
    /// </summary>
    /// <param name="next">The scorer to serve.</param>
    /// <param name="versionId">Its version in the store's model history; null when it is not from one.</param>
    public async Task<LeadScorer> SwapAsync(LeadScorer next, string? versionId = null)
    {
        var previous = Interlocked.Exchange(ref _served, new Served(next, new ScoringQueue(next, _metrics, _options.QueueCapacity), versionId));
        _metrics.ModelInfo.WithLabels(previous.Scorer.ModelVersion, PolicyVersionOf(previous.Scorer)).Set(0);
        _metrics.ModelInfo.WithLabels(next.ModelVersion, PolicyVersionOf(next)).Set(1);
        await Task.Run(previous.Queue.Dispose);
        return previous.Scorer;
    }

    /// <summary>
    /// Scores on the current model; a request that met a model being swapped out is retried on the
    /// new one. <paramref name="admit"/>: refuse with 503 when the queue is full (client requests), else queue regardless.
    /// </summary>
    private async Task<(LeadScorer Scorer, IReadOnlyList<LeadScore> Scores)> ScoreOnCurrentAsync(IReadOnlyList<Lead> leads, bool admit,
        CancellationToken cancel = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            var served = Current;
            var pending = admit ? served.Queue.TryScore(leads, cancel)
                ?? throw new RequestException(StatusCodes.Status503ServiceUnavailable, "$", $"the scoring queue is full ({_options.QueueCapacity} leads waiting); retry shortly")
                : served.Queue.Score(leads, cancel);
            try
            {
                return (served.Scorer, await pending);
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                // swapped out between reading it and queueing: take the new one
            }
        }
    }

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

    /// <summary>
    /// Every failure becomes a problem document with its real status, inside the metrics middleware so that
    /// <c>/metrics</c> counts it under that status: a <see cref="RequestException"/> names the field; a store that
    /// cannot be reached or written is 503 (nothing was acknowledged); a request Kestrel gave up on keeps its status
    /// (408, 413); anything else is 500 with a message, never an empty body.
    /// </summary>
    private async Task RefuseAsProblem(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (RequestException e)
        {
            _metrics.Rejected.WithLabels(e.Status.ToString(CultureInfo.InvariantCulture)).Inc();
            await Problem(context, e.Status, e.Field, e.Message);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or FeedbackStoreException)
        {
            _metrics.Rejected.WithLabels("503").Inc();
            await Problem(context, StatusCodes.Status503ServiceUnavailable, "$", $"the feedback store cannot be reached or written, so nothing was stored: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            _metrics.Rejected.WithLabels(e.StatusCode.ToString(CultureInfo.InvariantCulture)).Inc();
            await Problem(context, e.StatusCode, "$", e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left: there is no one to answer.
        }
        catch (Exception e)
        {
            _metrics.Rejected.WithLabels("500").Inc();
            await Problem(context, StatusCodes.Status500InternalServerError, "$", $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The response header naming the weights that served it (their hash, as in every score).</summary>
    public const string ModelHeader = "LeadEngine-Model";

    /// <summary>The response header naming the version of the store's model history that served it (absent when not from one).</summary>
    public const string VersionHeader = "LeadEngine-Model-Version";

    /// <summary>
    /// Every response, problem documents included, says which model answered: the one serving when its headers are
    /// sent (set then, because a problem document clears the headers set before).
    /// </summary>
    private Task NameTheModel(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            var served = Current;
            context.Response.Headers[ModelHeader] = served.Scorer.ModelVersion;
            if (served.VersionId is { } id) context.Response.Headers[VersionHeader] = id;
            return Task.CompletedTask;
        });
        return next(context);
    }

    private static Task Problem(HttpContext context, int status, string field, string detail)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.Clear();
        context.Response.StatusCode = status;
        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests) context.Response.Headers.RetryAfter = "1";
        if (status == StatusCodes.Status401Unauthorized) context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["field"] = field }).ExecuteAsync(context);
    }

    private async Task<IResult> ScoreAsync(HttpContext context)
    {
        using var body = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted);
        var (items, isList) = RequestReader.OneOrList(body.RootElement, "lead", _options.MaxLeadsPerRequest);
        var leads = items.Select(i => RequestReader.Lead(i.Item, i.Path, Current.Scorer.Schema)).ToList();
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
        if (explain && ScoreExplanations.PartCount(leads) is var parts && parts > _options.MaxExplainParts)
            throw new RequestException(StatusCodes.Status413PayloadTooLarge, "explain",
                $"explaining these leads leaves out {parts} parts (feature columns and dialogue sentences), one forward pass each; at most {_options.MaxExplainParts} per request");
        var occlusions = explain ? ScoreExplanations.Variants(leads) : null;
        var (scorer, scores) = await ScoreOnCurrentAsync(leads, admit: true, context.RequestAborted);
        string version = scorer.ModelVersion;
        var served = scores.Select(s => AsServed(s, version)).ToList();
        await _store.RecordScoresAsync(leads.Zip(served).ToList(), DateTimeOffset.UtcNow, context.RequestAborted);
        var explained = occlusions is not null ? await ExplainAsync(scorer, leads, scores, occlusions, context.RequestAborted) : null;
        var bodies = served.Select((s, i) => new ScoredLeadBody(ScoreFields.Of(s), scores[i].YesProbability,
            explained?[i].Positive.Select(ReasonBody.Of).ToList(), explained?[i].Negative.Select(ReasonBody.Of).ToList())).ToList();
        return isList ? Results.Json(new ScoreListBody(version, bodies), Json) : Results.Json(bodies[0], Json);
    }

    /// <summary>
    /// Reasons by occlusion: one forward pass per column and dialogue sentence, through the scoring queue like every
    /// other forward pass (in batches, beside other requests), dropped when the client leaves; the leads' own scores are those already served.
    /// </summary>
    private async Task<IReadOnlyList<LeadExplanation>> ExplainAsync(LeadScorer scorer, IReadOnlyList<Lead> leads, IReadOnlyList<LeadScore> scores,
        ScoreExplanations.Occlusions variants, CancellationToken cancel)
    {
        var (variantScorer, variantScores) = await ScoreOnCurrentAsync(variants.Leads, admit: false, cancel);
        if (variantScorer != scorer)
            throw new RequestException(StatusCodes.Status503ServiceUnavailable, "$", "a new model version was promoted while explaining; retry");
        return ScoreExplanations.Explain(leads, scores, variants, variantScores);
    }

    private static ServedScore AsServed(LeadScore s, string version) => new(s.LeadId, version, s.Probability, s.RankingScore, s.Score, s.Grade);

    /// <summary>
    /// K open leads chosen by the serving policy from their probabilities, each with its propensity
    /// (the probability that the policy lists it), all recorded. Leads last scored by another model
    /// version are scored again first, so the list ranks by the scores this model gives. The choice is a
    /// claim (<see cref="FeedbackStore.ClaimCallListAsync"/>): it is made among the leads still open when no
    /// other list is being claimed, on this host or another, so no lead goes to two reps within the cool-down.
    /// </summary>
    private async Task<IResult> CallListAsync(HttpContext context)
    {
        int k = RequestReader.QueryInt(context.Request, "k", 1, _options.MaxCallList);
        var now = DateTimeOffset.UtcNow;
        var model = Current.Scorer;
        string policyVersion = PolicyVersionOf(model);
        var candidates = await _store.CallCandidatesAsync(now - _options.CallListCooldown, context.RequestAborted);
        var current = candidates.Where(c => c.LastScore.ModelVersion == model.ModelVersion).Select(c => c.LastScore).ToList();
        var stale = candidates.Where(c => c.LastScore.ModelVersion != model.ModelVersion).Select(c => StoredLead.FromJson(c.Fields)).ToList();
        if (stale.Count > 0)
        {
            var (scorer, scores) = await ScoreOnCurrentAsync(stale, admit: false);
            var rescored = scores.Select(s => AsServed(s, scorer.ModelVersion)).ToList();
            await _store.RecordScoresAsync(stale.Zip(rescored).ToList(), now, context.RequestAborted);
            current.AddRange(rescored);
        }
        current.Sort((a, b) => a.Probability != b.Probability ? b.Probability.CompareTo(a.Probability) : string.CompareOrdinal(a.LeadId, b.LeadId));
        var fields = candidates.ToDictionary(c => c.LastScore.LeadId, c => c.Fields, StringComparer.Ordinal);
        string listId = Guid.NewGuid().ToString("N");
        List<(ServedScore Score, double Propensity)> chosen = [];
        int open = 0;
        await _store.ClaimCallListAsync(now - _options.CallListCooldown, stillOpen =>
        {
            // Leads another list claimed since they were read are not candidates any more.
            var available = current.Where(s => stillOpen.Contains(s.LeadId)).ToList();
            var probabilities = _posterior is null
                ? new CandidateSet(available.Select(s => s.Probability).ToList())
                : _posterior.Candidates(available.Select(s => (StoredLead.FromJson(fields[s.LeadId]), s.Probability)).ToList());
            CallList list;
            if (_seeded is null) list = _options.Policy.Choose(probabilities, k, Random.Shared);
            else lock (_seeded) list = _options.Policy.Choose(probabilities, k, _seeded);
            chosen = list.Chosen.Select(i => (Score: available[i], Propensity: list.Inclusion[i])).ToList();
            open = available.Count;
            return (chosen.Select((c, i) => new Recommendation(listId, c.Score.LeadId, i + 1, policyVersion, c.Propensity, c.Score.Probability, now)).ToList(),
                available.Select((s, i) => new ListCandidate(listId, s.LeadId, s.Probability, list.Inclusion[i])).ToList());
        }, context.RequestAborted);
        _metrics.Recommendations.Inc(chosen.Count);
        return Results.Json(new CallListBody(listId, _options.Policy.Name, policyVersion, model.ModelVersion, now, k, open,
            chosen.Select((c, i) => new CallListEntryBody(ScoreFields.Of(c.Score), i + 1, c.Propensity, policyVersion)).ToList()), Json);
    }

    private async Task<IResult> FeedbackAsync(HttpContext context)
    {
        using var body = await RequestReader.ReadJsonAsync(context.Request, context.RequestAborted);
        var (items, _) = RequestReader.OneOrList(body.RootElement, "event", _options.MaxEventsPerRequest);
        var events = items.Select(i => RequestReader.Event(i.Item, i.Path)).ToList();
        IReadOnlyList<EventStatus> statuses;
        try
        {
            statuses = await _store.AddEventsAsync(events, DateTimeOffset.UtcNow, context.RequestAborted);
        }
        catch (UnknownLeadException e)
        {
            throw new RequestException(StatusCodes.Status404NotFound, $"{items[events.FindIndex(x => x.LeadId == e.LeadId)].Path}.lead_id", e.Message);
        }
        catch (EventConflictException e)
        {
            throw new RequestException(StatusCodes.Status409Conflict, $"{items[events.FindIndex(x => x.EventId == e.EventId)].Path}.event_id", e.Message);
        }
        if (_posterior is not null)
        {
            var finals = events.Zip(statuses).Where(p => p.Second == EventStatus.Stored && p.First.Kind.IsFinal()).Select(p => p.First).ToList();
            var leads = await _store.LeadSnapshotsAsync(finals.Select(e => e.LeadId), context.RequestAborted);
            foreach (var e in finals) Observe(e, leads[e.LeadId]);
        }
        int stored = statuses.Count(s => s == EventStatus.Stored);
        _metrics.FeedbackEvents.WithLabels("stored").Inc(stored);
        _metrics.FeedbackEvents.WithLabels("duplicate").Inc(statuses.Count - stored);
        return Results.Json(new FeedbackBody(stored, statuses.Count - stored,
            events.Zip(statuses, (e, s) => new EventStatusBody(e.EventId, s == EventStatus.Stored ? "stored" : "duplicate")).ToList()), Json,
            statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> LeadAsync(string id, HttpContext context)
    {
        var record = await _store.LeadAsync(id, context.RequestAborted)
            ?? throw new RequestException(StatusCodes.Status404NotFound, "id", $"lead '{id}' is not known: score it first (POST /v1/score)");
        using var fields = JsonDocument.Parse(record.Fields);
        return Results.Json(new LeadBody(record.LeadId, fields.RootElement.Clone(), record.FirstSeen, record.LastScored, ScoreFields.Of(record.LastScore),
            record.Recommendations, record.Events.Select(e => new EventBody(e.EventId, e.LeadId, e.Kind.Name(), e.At, e.CallSeconds, e.Note)).ToList()), Json);
    }

    private async Task<IResult> HealthAsync(HttpContext context)
    {
        string? problem = await _store.ProblemAsync(context.RequestAborted);
        bool database = problem is null;
        return Results.Json(new HealthBody(database ? "ok" : $"the feedback store cannot take writes: {problem}", Current.Scorer.ModelVersion, PolicyVersion,
            _store.SchemaVersion, _store.Description, Current.Queue.QueuedLeads,
            Current.VersionId is { } id && LastHistoryCheck is { } check ? new HistoryBody(id, check.InForce, check.At, check.Problem) : null), Json, statusCode: database ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Stops listening, lets queued scoring finish, and stops the engine thread.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Current.Queue.Dispose();
        _keys?.Dispose();
    }
}
