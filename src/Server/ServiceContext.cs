using LeadEngine.Feedback;
using System.Text.Json;

namespace LeadEngine.Server;

/// <summary>What every endpoint group of <see cref="LeadServer"/> shares: the store, the settings, the metrics, the served model.</summary>
internal sealed class ServiceContext(FeedbackStore store, ServeOptions options, ServerMetrics metrics, ServedModel model, CallListPosterior? posterior)
{
    /// <summary>Every body is written with these: snake_case names, as the OpenAPI document describes them.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public FeedbackStore Store { get; } = store;
    public ServeOptions Options { get; } = options;
    public ServerMetrics Metrics { get; } = metrics;
    public ServedModel Model { get; } = model;
    /// <summary>Thompson sampling's posterior, when the policy draws from one.</summary>
    public CallListPosterior? Posterior { get; } = posterior;
}
