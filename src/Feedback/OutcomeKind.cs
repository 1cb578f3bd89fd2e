namespace LeadEngine.Feedback;

/// <summary>What happened when a lead was worked, as the CRM reports it.</summary>
public enum OutcomeKind
{
    /// <summary>Reached (a call or message got through); nothing more yet.</summary>
    Contacted,
    /// <summary>Answered or engaged without converting.</summary>
    Responded,
    /// <summary>Bought: the funnel's last stage.</summary>
    Converted,
    /// <summary>Closed without a sale.</summary>
    Lost,
    /// <summary>Did not answer or react.</summary>
    Ignored,
}
