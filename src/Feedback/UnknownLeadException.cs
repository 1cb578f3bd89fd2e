namespace LeadEngine.Feedback;

/// <summary>An outcome names a lead that was never scored.</summary>
public sealed class UnknownLeadException(string leadId)
    : Exception($"lead '{leadId}' is not known: score it first (POST /v1/score)")
{
    /// <summary>The lead id.</summary>
    public string LeadId { get; } = leadId;
}
