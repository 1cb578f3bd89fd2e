using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using LeadEngine.Feedback;
using Microsoft.AspNetCore.Http;

namespace LeadEngine.Server;

/// <summary>
/// API keys on every endpoint but <c>/healthz</c>: <c>Authorization: Bearer KEY</c>, looked up by hash in the
/// feedback store (so every host on the database knows the same keys; a lookup is reused for
/// <see cref="ServeOptions.KeyCacheTime"/>), with the scope the endpoint needs (401 without a valid key, 403
/// without the scope), and a token bucket per key (429 with Retry-After). Failures are
/// <see cref="RequestException"/>s, so they become problem documents like every other refusal.
/// </summary>
internal sealed class KeyCheck(FeedbackStore store, ServeOptions options) : IDisposable
{
    private const int MaxCachedKeys = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKey? Key, DateTimeOffset Fetched)> _lookups = new(StringComparer.Ordinal);
    private readonly PartitionedRateLimiter<string>? _limiter = options.RequestsPerSecondPerKey is { } rate
        ? PartitionedRateLimiter.Create<string, string>(name => RateLimitPartition.GetTokenBucketLimiter(name, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate, TokensPerPeriod = rate, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0, AutoReplenishment = true,
        }))
        : null;

    /// <summary>
    /// The scope a request's endpoint needs; null for one anyone may call (<c>/healthz</c>, unknown paths get their 404). The
    /// OpenAPI document needs a key (any scope): it describes what a key-holder may send, not for anyone on the network.
    /// </summary>
    public static string? ScopeOf(PathString path) => path.Value switch
    {
        "/v1/score" => ApiScopes.Score,
        "/v1/call-list" => ApiScopes.CallList,
        "/v1/feedback" => ApiScopes.Feedback,
        "/metrics" => ApiScopes.Admin,
        "/openapi/v1.json" => ApiScopes.AnyKey,
        var p when p?.StartsWith("/v1/leads/", StringComparison.Ordinal) == true => ApiScopes.Admin,
        _ => null,
    };

    /// <summary>The <see cref="HttpContext.Items"/> entry holding the name of the key a request came with.</summary>
    public const string KeyNameItem = "leadengine.key";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (ScopeOf(context.Request.Path) is { } scope)
        {
            var key = await KeyOfAsync(context);
            context.Items[KeyNameItem] = key.Name;
            if (!key.Allows(scope))
                throw new RequestException(StatusCodes.Status403Forbidden, "Authorization", $"key '{key.Name}' lacks the '{scope}' scope (it has {string.Join(", ", key.Scopes)})");
            if (_limiter is not null)
            {
                using var lease = _limiter.AttemptAcquire(key.Name);
                if (!lease.IsAcquired)
                    throw new RequestException(StatusCodes.Status429TooManyRequests, "Authorization", $"key '{key.Name}' is over its {options.RequestsPerSecondPerKey} requests per second; retry shortly");
            }
        }
        await next(context);
    }

    private async Task<ApiKey> KeyOfAsync(HttpContext context)
    {
        string header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw new RequestException(StatusCodes.Status401Unauthorized, "Authorization", "an API key is required: send 'Authorization: Bearer KEY' (leadengine keys add)");
        string presented = header[7..].Trim();
        var now = DateTimeOffset.UtcNow;
        if (!_lookups.TryGetValue(presented, out var cached) || now - cached.Fetched > options.KeyCacheTime)
        {
            cached = (await store.FindKeyAsync(presented, context.RequestAborted), now);
            // Only keys the store knows are remembered, so made-up keys cannot fill the cache.
            if (cached.Key is not null)
            {
                if (_lookups.Count >= MaxCachedKeys) _lookups.Clear();
                _lookups[presented] = cached;
            }
        }
        if (cached.Key is null || cached.Key.RevokedAt is not null)
            throw new RequestException(StatusCodes.Status401Unauthorized, "Authorization", cached.Key is null ? "unknown API key" : $"key '{cached.Key.Name}' was revoked");
        return cached.Key;
    }

    public void Dispose() => _limiter?.Dispose();
}
