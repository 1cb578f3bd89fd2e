namespace LeadEngine.Learning;

/// <summary>
/// P(answer | lead, slot): whether a call attempt reaches the lead, by the slot of the week it is made in
/// (<see cref="CallSlots"/>) and the lead's columns. A linear probability model with a Bayesian posterior
/// (<see cref="BayesianLinearHead"/>, closed form, one rank-one update per attempt):
/// p = h_band + d_day + s_slot + Σₖ x_k · b_{group(slot), k}: the two-hour band's effect shared by every day (prior mean the
/// base rate, sd 0.2), the weekday's shift (sd 0.1) and the slot's own deviation (sd 0.05), so that what Monday evenings
/// teach reaches Tuesday evenings, plus each slot group's interaction b with the lead's encoded columns x (prior 0, sd 0.2).
/// Thompson sampling draws the weights once per plan (<see cref="Sample"/>), so slots it is unsure of get tried in
/// proportion to their chance of being best.
/// </summary>
public sealed class PickupModel
{
    /// <summary>The answer rate the bands start from before any attempt.</summary>
    public const double PriorRate = 0.3;

    private const int Shared = CallSlots.BandsPerDay + 7 + CallSlots.Count; // band, day and slot effects
    private readonly BayesianLinearHead _head;

    /// <summary>A model at its prior over leads encoded in <paramref name="leadWidth"/> columns.</summary>
    public PickupModel(int leadWidth)
    {
        LeadWidth = leadWidth;
        int dim = Shared + CallSlots.Groups * leadWidth;
        var mean = new double[dim];
        Array.Fill(mean, PriorRate, 0, CallSlots.BandsPerDay);
        var precision = Enumerable.Repeat(1 / (0.2 * 0.2), dim).ToArray();
        Array.Fill(precision, 1 / (0.1 * 0.1), CallSlots.BandsPerDay, 7);
        Array.Fill(precision, 1 / (0.05 * 0.05), CallSlots.BandsPerDay + 7, CallSlots.Count);
        _head = new BayesianLinearHead(mean, precision, noiseVariance: 0.2);
    }

    /// <summary>Width of a lead's encoded columns.</summary>
    public int LeadWidth { get; }

    /// <summary>Attempts learned.</summary>
    public int Attempts => _head.Observations;

    /// <summary>The model's features of a lead (encoded columns <paramref name="lead"/>) in <paramref name="slot"/>.</summary>
    private double[] Features(IReadOnlyList<double> lead, int slot)
    {
        if (lead.Count != LeadWidth) throw new ArgumentException($"{lead.Count} lead columns, the pick-up model has {LeadWidth}");
        var x = new double[_head.Dimension];
        x[slot % CallSlots.BandsPerDay] = 1;
        x[CallSlots.BandsPerDay + CallSlots.Day(slot)] = 1;
        x[CallSlots.BandsPerDay + 7 + slot] = 1;
        int offset = Shared + CallSlots.Group(slot) * LeadWidth;
        for (int k = 0; k < LeadWidth; k++) x[offset + k] = lead[k];
        return x;
    }

    /// <summary>Learns one attempt: the lead, the slot it was made in, whether it was answered.</summary>
    public void Observe(IReadOnlyList<double> lead, int slot, bool answered) => _head.Update(Features(lead, slot), answered ? 1 : 0);

    /// <summary>The posterior mean of P(answer), clipped to [0.001, 0.999].</summary>
    public double Probability(IReadOnlyList<double> lead, int slot) => Clip(Dot(_head.Mean, lead, slot));

    /// <summary>
    /// One posterior draw of the weights, as a function of (lead, slot): Thompson sampling's view for one plan, its spread scaled by
    /// <paramref name="scale"/> (below 1 explores less, as linear Thompson sampling's v).
    /// </summary>
    public Func<IReadOnlyList<double>, int, double> Sample(Random rng, double scale = 1)
    {
        var w = _head.SampleWeights(rng, scale);
        return (lead, slot) => Clip(Dot(w, lead, slot));
    }

    /// <summary>wᵀx for the features of (lead, slot) without building them: they are one-hot but for the lead's columns (a plan scores thousands).</summary>
    private double Dot(IReadOnlyList<double> w, IReadOnlyList<double> lead, int slot)
    {
        if (lead.Count != LeadWidth) throw new ArgumentException($"{lead.Count} lead columns, the pick-up model has {LeadWidth}");
        double sum = w[slot % CallSlots.BandsPerDay] + w[CallSlots.BandsPerDay + CallSlots.Day(slot)] + w[CallSlots.BandsPerDay + 7 + slot];
        int offset = Shared + CallSlots.Group(slot) * LeadWidth;
        for (int k = 0; k < LeadWidth; k++) sum += lead[k] * w[offset + k];
        return sum;
    }


    private static double Clip(double p) => Math.Clamp(p, 0.001, 0.999);
}
