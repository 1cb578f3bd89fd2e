using LeadEngine.LeadScoring;

namespace LeadEngine.Learning;

/// <summary>
/// What Thompson sampling draws from when the service or the replay's continuous policy chooses a call list: a Bayesian linear head on the
/// served probability and the lead's encoded columns (the scorer's own encoder, when its heads read them),
/// reward ≈ w·[1, p, columns], with the prior "the reward is the probability". Final outcomes (converted 1,
/// lost 0) update it in closed form as they arrive, between the LoRA updates that replace the scorer. Thread-safe.
/// </summary>
public sealed class OutcomePosterior
{
    private readonly BayesianLinearHead _head;
    private readonly LeadFeatureEncoder? _encoder;
    private readonly Lock _gate = new();

    /// <summary>A posterior at its prior, over the columns <paramref name="encoder"/> encodes (none when null).</summary>
    public OutcomePosterior(LeadFeatureEncoder? encoder)
    {
        _encoder = encoder;
        _head = BayesianLinearHead.StartingFromProbability(2 + (encoder?.Width ?? 0), looseLeading: 2);
    }

    /// <summary>Outcomes learned so far.</summary>
    public int Observations
    {
        get
        {
            lock (_gate) return _head.Observations;
        }
    }

    /// <summary>The head's input for a lead served with probability <paramref name="probability"/>.</summary>
    public double[] Features(Lead lead, double probability) => _encoder is null ? [1, probability] : [1, probability, .. _encoder.Encode(lead)];

    /// <summary>Learns one lead's outcome reward.</summary>
    public void Observe(Lead lead, double probability, double reward)
    {
        var x = Features(lead, probability);
        lock (_gate) _head.Update(x, reward);
    }

    /// <summary>The candidates for a call list: posterior means, and draws of every candidate's reward from one weight sample.</summary>
    public CandidateSet Candidates(IReadOnlyList<(Lead Lead, double Probability)> leads, double scale = 1)
    {
        var x = leads.Select(l => Features(l.Lead, l.Probability)).ToList();
        List<double> means;
        lock (_gate) means = x.Select(v => _head.Predict(v)).ToList();
        return new CandidateSet(means, rng =>
        {
            double[] w;
            lock (_gate) w = _head.SampleWeights(rng, scale);
            return x.Select(v => BayesianLinearHead.Dot(w, v)).ToArray();
        });
    }
}
