namespace LeadEngine.Feedback;

/// <summary>What an API key may do: each endpoint of the service needs one scope; <see cref="Admin"/> may do everything.</summary>
public static class ApiScopes
{
    /// <summary><c>POST /v1/score</c>.</summary>
    public const string Score = "score";
    /// <summary><c>GET /v1/call-list</c>.</summary>
    public const string CallList = "call-list";
    /// <summary><c>POST /v1/feedback</c>.</summary>
    public const string Feedback = "feedback";
    /// <summary>Everything, including <c>GET /v1/leads/{id}</c> (a lead's personal data) and <c>/metrics</c>.</summary>
    public const string Admin = "admin";

    /// <summary>Not a scope a key is given: what an endpoint needs when any valid key may call it (<c>/openapi/v1.json</c>).</summary>
    public const string AnyKey = "any-key";

    /// <summary>Every scope, in the order the help lists them.</summary>
    public static readonly string[] All = [Score, CallList, Feedback, Admin];

    /// <summary>The scopes of a comma-separated list; an unknown one throws, naming it.</summary>
    public static string[] Parse(string text)
    {
        var scopes = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        if (scopes.Length == 0) throw new ArgumentException($"no scopes given; name some of {string.Join(", ", All)}");
        foreach (string scope in scopes)
            if (!All.Contains(scope)) throw new ArgumentException($"unknown scope '{scope}'; one of {string.Join(", ", All)}");
        return scopes;
    }
}
