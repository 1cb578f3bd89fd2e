namespace LeadEngine.Feedback;

/// <summary>
/// The open leads one call list is chosen from, read in O((head + tail)·log n) however many leads are open: the head,
/// the callable leads with the highest last probability (each certainly in the pool), and the tail, a sample of the
/// other callable leads: a window of consecutive sampling places (<see cref="LeadEngine.LeadScoring.LeadShard.Position"/>)
/// from a random start, in which each lead's inclusion is known exactly (the length of the arc of starts whose
/// window holds it). A lead's propensity on the list is its pool inclusion times the policy's inclusion given the pool.
/// </summary>
/// <param name="Leads">The head, best first, then the tail in sampling order.</param>
/// <param name="OpenLeads">How many callable leads there are: exact when the head and tail hold them all, else the head plus the tail's estimate
/// (the window's length over its mean inclusion).</param>
/// <param name="Planned">Calls already planned per window start in the horizon asked for (what capacity has left), read in the claim.</param>
public sealed record CallPool(IReadOnlyList<CallCandidate> Leads, int OpenLeads, IReadOnlyDictionary<DateTimeOffset, int>? Planned = null)
{
    /// <summary>True when every callable lead is in the pool (each with inclusion 1).</summary>
    public bool Whole => Leads.Count == OpenLeads && Leads.All(c => c.PoolInclusion == 1);
}
