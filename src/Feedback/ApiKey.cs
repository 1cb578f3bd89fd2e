namespace LeadEngine.Feedback;

/// <summary>An API key as the store keeps it: never the key itself.</summary>
/// <param name="Name">Who holds it (unique).</param>
/// <param name="Scopes">What it may do.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="RevokedAt">When it was revoked; null while valid.</param>
public sealed record ApiKey(string Name, string[] Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Whether this key may use an endpoint that needs <paramref name="scope"/>.</summary>
    public bool Allows(string scope) => RevokedAt is null && (scope == ApiScopes.AnyKey || Scopes.Contains(scope) || Scopes.Contains(ApiScopes.Admin));
}
