namespace LeadEngine.Learning;

/// <summary>P(answer) by weekday (rows, Monday first) × two-hour band (columns), with the attempts behind each cell.</summary>
/// <param name="Rates">P(answer) per cell; NaN where nothing is known.</param>
/// <param name="Counts">Attempts per cell (zeros for a model's rates).</param>
public sealed record PickupHeatmap(double[,] Rates, int[,] Counts)
{
    /// <summary>The model's mean P(answer) in each slot, averaged over <paramref name="leads"/> (their encoded columns).</summary>
    public static PickupHeatmap Learned(PickupModel model, IReadOnlyList<IReadOnlyList<double>> leads)
    {
        var rates = new double[7, CallSlots.BandsPerDay];
        for (int slot = 0; slot < CallSlots.Count; slot++)
            rates[CallSlots.Day(slot), slot % CallSlots.BandsPerDay] = leads.Count == 0 ? double.NaN : leads.Average(l => model.Probability(l, slot));
        return new PickupHeatmap(rates, new int[7, CallSlots.BandsPerDay]);
    }

    /// <summary>The observed answer rate and attempts per slot of <paramref name="attempts"/>.</summary>
    public static PickupHeatmap Observed(IEnumerable<(int Slot, bool Answered)> attempts)
    {
        var counts = new int[7, CallSlots.BandsPerDay];
        var answered = new int[7, CallSlots.BandsPerDay];
        foreach (var (slot, yes) in attempts)
        {
            counts[CallSlots.Day(slot), slot % CallSlots.BandsPerDay]++;
            if (yes) answered[CallSlots.Day(slot), slot % CallSlots.BandsPerDay]++;
        }
        var rates = new double[7, CallSlots.BandsPerDay];
        for (int d = 0; d < 7; d++)
            for (int b = 0; b < CallSlots.BandsPerDay; b++)
                rates[d, b] = counts[d, b] == 0 ? double.NaN : (double)answered[d, b] / counts[d, b];
        return new PickupHeatmap(rates, counts);
    }

    /// <summary>These rates only where <paramref name="attempts"/> has any (NaN elsewhere: a slot never tried shows the prior, not knowledge).</summary>
    public PickupHeatmap Where(int[,] attempts)
    {
        var rates = (double[,])Rates.Clone();
        for (int d = 0; d < 7; d++)
            for (int b = 0; b < CallSlots.BandsPerDay; b++)
                if (attempts[d, b] == 0) rates[d, b] = double.NaN;
        return this with { Rates = rates };
    }
}
