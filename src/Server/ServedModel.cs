using LeadEngine.LeadScoring;
using Microsoft.AspNetCore.Http;

namespace LeadEngine.Server;

/// <summary>
/// The model being served and the queue that feeds it, swapped whole when a version is promoted (hot swap): every
/// endpoint reads <see cref="Current"/> once per request and scores through <see cref="ScoreAsync"/>.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    /// <summary>The scorer being served, the queue that feeds it and its version in the store's model history (null when it is not from one).</summary>
    public sealed record Serving(LeadScorer Scorer, ScoringQueue Queue, string? VersionId);

    private readonly ServerMetrics _metrics;
    private readonly ServeOptions _options;
    private Serving _serving;

    public ServedModel(LeadScorer scorer, string? versionId, ServerMetrics metrics, ServeOptions options)
    {
        _metrics = metrics;
        _options = options;
        _serving = new Serving(scorer, new ScoringQueue(scorer, metrics, options.QueueCapacity), versionId);
    }

    /// <summary>What serves now.</summary>
    public Serving Current => Volatile.Read(ref _serving);

    /// <summary>The policy and model that choose call lists, e.g. <c>greedy@MODELVERSION</c> or <c>epsilon-greedy(0.1)@MODELVERSION</c>.</summary>
    public string PolicyVersionOf(LeadScorer scorer) => PolicyVersionOf(_options, scorer);

    /// <summary><see cref="PolicyVersionOf(LeadScorer)"/> before a served model exists (the metrics' first label).</summary>
    public static string PolicyVersionOf(ServeOptions options, LeadScorer scorer) => $"{options.Policy.Name}@{scorer.ModelVersion}";

    /// <summary>
    /// Serves <paramref name="next"/> from now on: new requests go to it, the previous scorer's queue finishes what it
    /// holds, and the previous scorer is returned, no longer used, for its owner to dispose.
    /// </summary>
    public async Task<LeadScorer> SwapAsync(LeadScorer next, string? versionId)
    {
        var previous = Interlocked.Exchange(ref _serving, new Serving(next, new ScoringQueue(next, _metrics, _options.QueueCapacity), versionId));
        _metrics.ModelInfo.WithLabels(previous.Scorer.ModelVersion, PolicyVersionOf(previous.Scorer)).Set(0);
        _metrics.ModelInfo.WithLabels(next.ModelVersion, PolicyVersionOf(next)).Set(1);
        await Task.Run(previous.Queue.Dispose);
        return previous.Scorer;
    }

    /// <summary>
    /// Scores on the current model; a request that met a model being swapped out is retried on the
    /// new one. <paramref name="admit"/>: refuse with 503 when the queue is full (client requests), else queue regardless;
    /// an explanation's leads and occlusions draw on the room it reserved (<paramref name="reservation"/>) instead.
    /// </summary>
    public async Task<(LeadScorer Scorer, IReadOnlyList<LeadScore> Scores)> ScoreAsync(IReadOnlyList<Lead> leads, bool admit,
        CancellationToken cancel = default, ScoringQueue.Reservation? reservation = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            var served = Current;
            var pending = reservation is not null && reservation.Queue == served.Queue ? served.Queue.Score(leads, reservation, cancel)
                : admit ? served.Queue.TryScore(leads, cancel)
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

    /// <summary>
    /// Room for an explanation of <paramref name="leads"/> leads and occlusions in all on the current queue, before any work starts;
    /// a 503 when the explanations already queued hold their share.
    /// </summary>
    public ScoringQueue.Reservation ReserveExplanation(int leads) => Current.Queue.TryReserveExplanation(leads)
        ?? throw new RequestException(StatusCodes.Status503ServiceUnavailable, "explain",
            $"explanations already hold their share of the scoring queue ({Current.Queue.ExplanationCapacity} leads and occlusions); retry shortly");

    /// <summary>Lets queued scoring finish and stops the engine thread.</summary>
    public void Dispose() => Current.Queue.Dispose();
}
