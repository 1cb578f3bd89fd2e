namespace LeadEngine.Feedback;

/// <summary>A lead that may go on a call list: no final outcome and not handed out recently.</summary>
/// <param name="Fields">The lead's columns as last scored (<see cref="StoredLead"/>).</param>
/// <param name="LastScore">Its latest served score.</param>
public sealed record CallCandidate(string Fields, ServedScore LastScore);
