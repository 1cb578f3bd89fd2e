using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>Settings of <c>leadengine serve</c>.</summary>
public sealed record ServeOptions
{
    /// <summary>Address to listen on (loopback by default; a CRM on another host needs 0.0.0.0).</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Port; 0 picks a free one (the bound address is printed and in <see cref="LeadServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Largest request body in bytes; larger bodies get 413.</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>Most leads in one score request; more get 413.</summary>
    public int MaxLeadsPerRequest { get; init; } = 1000;
    /// <summary>Most outcome events in one feedback request; more get 413.</summary>
    public int MaxEventsPerRequest { get; init; } = 1000;
    /// <summary>
    /// Most parts (feature columns plus dialogue sentences, each one more forward pass) one <c>?explain=true</c>
    /// request may leave out; more get 413, so a request's cost is bounded before work starts.
    /// </summary>
    public int MaxExplainParts { get; init; } = 512;
    /// <summary>Largest call list (the k of /v1/call-list).</summary>
    public int MaxCallList { get; init; } = 10000;
    /// <summary>Leads waiting for the engine at most; a request that would exceed it gets 503 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 1024;
    /// <summary>
    /// How call lists are chosen: <see cref="GreedyPolicy"/> (the K highest probabilities), or an
    /// exploring policy (<see cref="EpsilonGreedyPolicy"/>, <see cref="SoftmaxPolicy"/>, <see cref="ThompsonPolicy"/> over an <see cref="OutcomePosterior"/>) whose
    /// propensities are logged with every recommendation.
    /// </summary>
    public CallListPolicy Policy { get; init; } = new GreedyPolicy();
    /// <summary>Seed of the call-list policy's random choices; null draws them from <see cref="Random.Shared"/> (tests seed it).</summary>
    public int? Seed { get; init; }
    /// <summary>When to call each listed lead (its <c>call_window</c>); null turns timing off.</summary>
    public CallTimingOptions? Timing { get; init; } = new();
    /// <summary>A lead put on a call list is not put on another for this long (unless it has no outcome yet and the time has passed).</summary>
    public TimeSpan CallListCooldown { get; init; } = TimeSpan.FromHours(20);
    /// <summary>
    /// Every endpoint but <c>/healthz</c> needs <c>Authorization: Bearer KEY</c> with the endpoint's scope (keys from
    /// <c>leadengine keys add</c>, kept hashed in the feedback store, shared by every host on it).
    /// </summary>
    public bool RequireKeys { get; init; }
    /// <summary>How long a key's lookup is reused: a revocation reaches every host within this time.</summary>
    public TimeSpan KeyCacheTime { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Requests per second each key may make (a token bucket of that size); more get 429 with Retry-After. Null: no limit.</summary>
    public int? RequestsPerSecondPerKey { get; init; }
    /// <summary>The server's TLS certificate with its private key; null serves plain HTTP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCertificate { get; init; }

    /// <summary>True when <see cref="Host"/> is a loopback address (127.0.0.0/8, ::1, localhost): reachable from this machine only.</summary>
    public bool LoopbackOnly => Host == "localhost" || (System.Net.IPAddress.TryParse(Host, out var address) && System.Net.IPAddress.IsLoopback(address));
}
