namespace LeadEngine.Learning;

/// <summary>
/// Whether a learned reward head has earned the right to reorder the served ranking. Every judged outcome is first
/// predicted by the head and by the served probability recalibrated (a Bayesian head on [1, p] alone, which ranks
/// exactly as p does), then learned; the head earns its way once its squared error is lower, with 95% confidence over
/// at least <see cref="MinimumJudged"/> outcomes. Until then, and whenever the evidence no longer shows it, the served
/// ranking stands: a continuous policy never trades a strong model's ranking for a head that has not shown a gain.
/// Not thread-safe (its owner locks).
/// </summary>
public sealed class BaselineGuard
{
    private readonly BayesianLinearHead _baseline = BayesianLinearHead.StartingFromProbability(2, looseLeading: 2);
    private double _sum, _sumOfSquares;

    /// <summary>Judged outcomes needed before the interval is trusted.</summary>
    public const int MinimumJudged = 50;

    /// <summary>Outcomes judged so far.</summary>
    public int Judged { get; private set; }

    /// <summary>Mean of (head's squared error − recalibrated probability's) over the judged outcomes; below 0 the head predicts better.</summary>
    public double MeanDifference => Judged == 0 ? 0 : _sum / Judged;

    /// <summary>The upper end of the 95% interval of <see cref="MeanDifference"/> (normal approximation); +∞ with fewer than two outcomes.</summary>
    public double High
    {
        get
        {
            if (Judged < 2) return double.PositiveInfinity;
            double variance = Math.Max(0, (_sumOfSquares - _sum * _sum / Judged) / (Judged - 1));
            return MeanDifference + 1.96 * Math.Sqrt(variance / Judged);
        }
    }

    /// <summary>True once the head has shown, with 95% confidence, that it predicts rewards better than the served probability.</summary>
    public bool Earned => Judged >= MinimumJudged && High < 0;

    /// <inheritdoc />
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Judged} outcomes judged: squared error, head − recalibrated probability, {MeanDifference:+0.0000;-0.0000} (95% high {High:+0.0000;-0.0000})");

    /// <summary>Judges one outcome (before the head learns it): the head predicted <paramref name="headPrediction"/>, the lead was served with <paramref name="probability"/>.</summary>
    public void Judge(double headPrediction, double probability, double reward)
    {
        double head = Math.Clamp(headPrediction, 0, 1) - reward;
        double baseline = Math.Clamp(_baseline.Predict([1, probability]), 0, 1) - reward;
        double difference = head * head - baseline * baseline;
        _sum += difference;
        _sumOfSquares += difference * difference;
        Judged++;
        _baseline.Update([1, probability], reward);
    }

    /// <summary>
    /// The candidates a Thompson policy draws from: the head's own (<paramref name="learned"/>) once it has earned it,
    /// else the served probabilities with draws that are the probabilities themselves, so Thompson sampling lists the
    /// best-served leads (a greedy list, propensity 1).
    /// </summary>
    public CandidateSet Candidates(IReadOnlyList<double> probabilities, Func<CandidateSet> learned) =>
        Earned ? learned() : new CandidateSet(probabilities, _ => [.. probabilities]);
}
