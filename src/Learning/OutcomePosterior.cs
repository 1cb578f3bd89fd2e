using LeadEngine.LeadScoring;

namespace LeadEngine.Learning;

/// <summary>
/// What Thompson sampling draws from when the service or the replay's continuous policy chooses a call list: a Bayesian linear head on the
/// served probability and the lead's encoded columns (the scorer's own encoder, when its heads read them),
/// reward ≈ w·[1, p, columns], with the prior "the reward is the probability". Final outcomes (converted 1,
/// lost 0) update it in closed form as they arrive, between the LoRA updates that replace the scorer. It reorders the
/// served ranking only once it has earned it (<see cref="BaselineGuard"/>); until then Thompson sampling lists the
/// best-served leads. Thread-safe.
/// </summary>
public sealed class OutcomePosterior
{
    private readonly BayesianLinearHead _head;
    private readonly BaselineGuard _guard = new();
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

    /// <summary>Whether the head has shown it predicts better than the served probability, so that it may reorder the served ranking.</summary>
    public bool Earned
    {
        get
        {
            lock (_gate) return _guard.Earned;
        }
    }

    /// <summary>The guard's evidence, for logs: judged outcomes and the interval of the squared-error difference.</summary>
    public string Evidence
    {
        get
        {
            lock (_gate) return _guard.ToString();
        }
    }

    /// <summary>
    /// Learns one lead's outcome reward. <paramref name="judged"/>: the outcome also counts as evidence for or against the head
    /// (<see cref="BaselineGuard"/>); false for a warm start on data the served model was fitted on, where its probability is in-sample.
    /// </summary>
    public void Observe(Lead lead, double probability, double reward, bool judged = true)
    {
        var x = Features(lead, probability);
        lock (_gate)
        {
            if (judged) _guard.Judge(_head.Predict(x), probability, reward);
            _head.Update(x, reward);
        }
    }

    /// <summary>
    /// The candidates for a call list: once the head has earned it, posterior means and draws of every candidate's reward
    /// from one weight sample; before, the served probabilities (<see cref="BaselineGuard.Candidates"/>).
    /// </summary>
    public CandidateSet Candidates(IReadOnlyList<(Lead Lead, double Probability)> leads, double scale = 1)
    {
        lock (_gate)
            return _guard.Candidates(leads.Select(l => l.Probability).ToList(), () =>
            {
                var x = leads.Select(l => Features(l.Lead, l.Probability)).ToList();
                var means = x.Select(v => _head.Predict(v)).ToList();
                return new CandidateSet(means, rng =>
                {
                    double[] w;
                    lock (_gate) w = _head.SampleWeights(rng, scale);
                    return x.Select(v => BayesianLinearHead.Dot(w, v)).ToArray();
                });
            });
    }
}
