namespace LeadEngine.Feedback;

/// <summary>One change of the version that serves: which version, when, why, and from which host.</summary>
/// <param name="Sequence">Order of the changes; the highest is the one in force.</param>
/// <param name="VersionId">The version that serves from then on.</param>
/// <param name="At">When.</param>
/// <param name="Action">import (the first version), promote (an update) or rollback.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Host">The machine that made the change.</param>
public sealed record ModelPromotion(long Sequence, string VersionId, DateTimeOffset At, string Action, string Reason, string Host);
