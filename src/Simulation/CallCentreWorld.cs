using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using System.Globalization;

namespace LeadEngine.Simulation;

/// <summary>
/// A car dealer's call centre over the synthetic funnel (<see cref="SyntheticLeads"/>' story) whose
/// customers drift. Leads arrive every day with features drawn from their latent intent z and
/// channel; a lead called on day t, a days after it arrived, converts with probability
/// σ(1.3z + βc(t) − 0.15a − 3.4), else responds with probability σ(z + 0.5βc(t) − 1), else ignores
/// the call. The channel effects βc drift linearly over the simulated period from the history's
/// (referral and walk-in best, marketplace worst) to the reverse order. A lead not called within
/// <see cref="OpenDays"/> days goes cold. Outcomes reach the CRM after a delay: the same day with
/// probability 0.4, else 1–5 days later.
/// </summary>
public sealed class CallCentreWorld(int days, double drift)
{
    /// <summary>Days a lead stays open.</summary>
    public const int OpenDays = 10;

    private static readonly double[] EffectsBefore = [0.0, 0.2, 0.6, 0.8, -0.3];
    private static readonly double[] EffectsAfter = [0.2, -0.2, -0.6, -0.8, 1.0];
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Length of the simulated period (the drift is complete at its end).</summary>
    public int Days { get; } = days;

    /// <summary>How far the channel effects move: 0 none, 1 to the reverse order.</summary>
    public double Drift { get; } = drift;

    /// <summary>Channel effect βc on day <paramref name="day"/> (history days are negative: no drift yet).</summary>
    public double ChannelEffect(int channel, int day)
    {
        double s = Drift * Math.Clamp(day / (double)Math.Max(1, Days - 1), 0, 1);
        return (1 - s) * EffectsBefore[channel] + s * EffectsAfter[channel];
    }

    /// <summary>Probability that calling <paramref name="lead"/> on <paramref name="day"/> converts it.</summary>
    public double ConversionProbability(SimulatedLead lead, int day) =>
        Logistic.Sigmoid(1.3 * lead.Intent + ChannelEffect(lead.Channel, day) - 0.15 * (day - lead.Day) - 3.4);

    /// <summary>The expected reward (<see cref="Rewards"/>) of calling <paramref name="lead"/> on <paramref name="day"/>.</summary>
    public double ExpectedReward(SimulatedLead lead, int day)
    {
        double convert = ConversionProbability(lead, day);
        return convert * Rewards.Of(OutcomeKind.Converted) + (1 - convert) * RespondProbability(lead, day) * Rewards.Of(OutcomeKind.Responded);
    }

    private double RespondProbability(SimulatedLead lead, int day) => Logistic.Sigmoid(lead.Intent + 0.5 * ChannelEffect(lead.Channel, day) - 1);

    /// <summary>What a call on <paramref name="day"/> gives, the call length, and the day the CRM learns of it.</summary>
    public (OutcomeKind Kind, double CallSeconds, int ReportedOn) Call(SimulatedLead lead, int day, Random rng)
    {
        var kind = rng.NextDouble() < ConversionProbability(lead, day) ? OutcomeKind.Converted
            : rng.NextDouble() < RespondProbability(lead, day) ? OutcomeKind.Responded : OutcomeKind.Ignored;
        double seconds = kind == OutcomeKind.Ignored ? 0 : -Math.Log(1 - rng.NextDouble()) * 70 * Math.Exp(0.6 * lead.Intent);
        int delay = rng.NextDouble() < 0.4 ? 0 : 1 + rng.Next(5);
        return (kind, seconds, day + delay);
    }

    /// <summary>The leads arriving on <paramref name="day"/>, with ids unique per day and index.</summary>
    public List<SimulatedLead> Arrivals(int day, int count, Random rng)
    {
        var leads = new List<SimulatedLead>(count);
        var channels = SyntheticLeads.ChannelNames;
        for (int i = 0; i < count; i++)
        {
            double z = SyntheticLeads.Gaussian(rng);
            int channel = rng.Next(channels.Count);
            bool prior = rng.NextDouble() < Logistic.Sigmoid(0.8 * z - 2.2);
            string budget = (z + SyntheticLeads.Gaussian(rng) * 0.8) switch { < -0.5 => "low", < 0.7 => "mid", _ => "high" };
            int age = Math.Clamp((int)(42 + 12 * SyntheticLeads.Gaussian(rng)), 19, 80);
            string stage = z + SyntheticLeads.Gaussian(rng) > 0.8 ? "telemarketing" : "lead";
            var lead = new Lead
            {
                Id = $"S{day + 1000:D4}-{i:D4}",
                CreatedAt = Start.AddDays(day).AddMinutes(rng.Next(24 * 60)),
                Features =
                [
                    new("channel", channels[channel]), new("prior_customer", prior ? "1" : "0"), new("budget_band", budget),
                    new("model_interest", SyntheticLeads.ModelInterests[rng.Next(SyntheticLeads.ModelInterests.Count)]),
                    new("age", age.ToString(CultureInfo.InvariantCulture)), new("current_stage", stage),
                ],
                Dialogue = SyntheticLeads.Dialogue(z, rng.Next(2, 7), rng),
            };
            leads.Add(new SimulatedLead(lead, day, z, channel));
        }
        return leads;
    }

}
