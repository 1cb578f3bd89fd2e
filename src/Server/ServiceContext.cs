using LeadEngine.Feedback;
using Microsoft.AspNetCore.Http;
using System.Collections.Concurrent;
using System.Text.Json;

namespace LeadEngine.Server;

/// <summary>What every endpoint group of <see cref="LeadServer"/> shares: the store, the settings, the metrics, the served model.</summary>
internal sealed class ServiceContext(FeedbackStore store, ServeOptions options, ServerMetrics metrics, ServedModel model, CallListPosterior? posterior,
    CallTiming? timing)
{
    /// <summary>Every body is written with these: snake_case names, as the OpenAPI document describes them.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public FeedbackStore Store { get; } = store;
    public ServeOptions Options { get; } = options;
    public ServerMetrics Metrics { get; } = metrics;
    public ServedModel Model { get; } = model;
    /// <summary>Thompson sampling's posterior, when the policy draws from one.</summary>
    public CallListPosterior? Posterior { get; } = posterior;
    /// <summary>When to call, when timing is on.</summary>
    public CallTiming? Timing { get; } = timing;

    private readonly ConcurrentDictionary<string, byte> _explainingKeys = new(StringComparer.Ordinal);

    /// <summary>
    /// One explanation in flight per API key (null without keys): a second is 429 before any work, so that one key cannot hold
    /// the explanations' share of the queue for every other key. Disposing the claim lets the key explain again.
    /// </summary>
    public IDisposable? ClaimExplanation(string? key)
    {
        if (key is null) return null;
        if (!_explainingKeys.TryAdd(key, 0))
            throw new RequestException(StatusCodes.Status429TooManyRequests, "Authorization",
                $"key '{key}' has an explanation in progress: one at a time per key; retry when it is answered");
        return new KeyClaim(_explainingKeys, key);
    }

    private sealed class KeyClaim(ConcurrentDictionary<string, byte> claims, string key) : IDisposable
    {
        public void Dispose() => claims.TryRemove(key, out _);
    }
}
