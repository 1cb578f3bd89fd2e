using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>
/// Thompson sampling's posterior for a policy that draws from one (<see cref="OutcomePosterior"/>): fitted on the store's
/// final outcomes at start, then taught each new final outcome as <c>/v1/feedback</c> stores it.
/// </summary>
internal sealed class CallListPosterior(LeadFeatureEncoder? encoder)
{
    private readonly OutcomePosterior _posterior = new(encoder);

    /// <summary>Final outcomes learned.</summary>
    public int Observations => _posterior.Observations;

    /// <summary>Learns every final outcome the store holds (a restart refits from the store).</summary>
    public async Task FitAsync(FeedbackStore store, CancellationToken cancel)
    {
        var finals = (await store.EventsAsync(cancel)).Where(e => e.Kind.IsFinal()).ToList();
        var leads = await store.LeadSnapshotsAsync(finals.Select(e => e.LeadId), cancel);
        foreach (var e in finals)
            if (leads.TryGetValue(e.LeadId, out var lead)) Observe(e, lead);
    }

    /// <summary>Learns the final ones among events the store has just stored.</summary>
    public async Task LearnAsync(FeedbackStore store, IReadOnlyList<OutcomeEvent> stored, CancellationToken cancel)
    {
        var finals = stored.Where(e => e.Kind.IsFinal()).ToList();
        var leads = await store.LeadSnapshotsAsync(finals.Select(e => e.LeadId), cancel);
        foreach (var e in finals) Observe(e, leads[e.LeadId]);
    }

    /// <summary>The candidates' probabilities as the policy draws them.</summary>
    public CandidateSet Candidates(IReadOnlyList<(Lead Lead, double Probability)> candidates) => _posterior.Candidates(candidates);

    /// <summary>Teaches the posterior a final outcome, with the lead's columns and probability as the store last served them.</summary>
    private void Observe(OutcomeEvent outcome, LeadSnapshot lead) =>
        _posterior.Observe(StoredLead.FromJson(lead.Fields), lead.LastProbability, Rewards.Of(outcome.Kind));
}
