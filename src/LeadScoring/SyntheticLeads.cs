using LeadEngine.Engine;
using System.Globalization;

namespace LeadEngine.LeadScoring;

/// <summary>
/// A synthetic automotive funnel for the built-in demo. The generative story, per lead:
/// <list type="number">
/// <item>a latent purchase intent z ~ N(0, 1);</item>
/// <item>observable features drawn partly from z: channel (referrals and dealer walk-ins carry more
/// intent), prior customer (more likely with high z), budget band, model interest, age, and the
/// stage the lead had reached three days after creation (<c>current_stage</c>, the snapshot a
/// scorer sees);</item>
/// <item>funnel progression: each next stage is reached with probability σ(a·z + b) per stage
/// (telemarketing, store visit, test drive, order), tuned so about 1.7% of leads order (1.66% for
/// 20,000 leads, seed 1; the paper reports ~1.5%); a lead that
/// stops is marked lost with probability 0.6, else stays at its furthest stage;</item>
/// <item>call length (seconds) ~ exponential with mean 70·e^(0.6z) once telemarketing is reached;</item>
/// <item>a dialogue of 2–6 phrases, each positive with probability σ(1.2z), else neutral or negative.</item>
/// </list>
/// Same count and seed give the same file.
/// </summary>
public static class SyntheticLeads
{
    private static readonly string[] Positive =
    [
        "Customer asked about financing options.", "Wants to book a test drive this weekend.", "Compared trim levels in detail.",
        "Asked whether the trade-in value could be estimated today.", "Mentioned the current lease ends next month.",
        "Requested the delivery time for the configured model.", "Asked for the final price including winter tires.",
    ];
    private static readonly string[] Neutral =
    [
        "Asked about showroom opening hours.", "Requested the brochure by email.", "Asked which colours are available.",
        "Wanted to know the fuel consumption.", "Asked about the warranty terms.",
    ];
    private static readonly string[] Negative =
    [
        "Said they are just browsing.", "Thinks the price is too high.", "Not interested right now, maybe next year.",
        "Already bought a car elsewhere.", "Did not pick up the follow-up call.", "Asked to be removed from the mailing list.",
    ];
    private static readonly string[] Channels = ["web_form", "phone", "dealer_walk_in", "referral", "marketplace"];
    private static readonly double[] ChannelIntent = [0.0, 0.2, 0.6, 0.8, -0.3];
    private static readonly string[] Models = ["suv", "sedan", "ev", "compact", "van"];

    /// <summary>Writes <paramref name="count"/> leads as CSV to <paramref name="path"/>.</summary>
    public static void WriteCsv(string path, int count, int seed)
    {
        var rng = new Random(seed);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        AtomicFile.WriteText(path, writer => WriteRows(writer, count, rng, start));
    }

    private static void WriteRows(TextWriter writer, int count, Random rng, DateTimeOffset start)
    {
        writer.WriteLine("lead_id,created_at,converted,stage,call_seconds,channel,prior_customer,budget_band,model_interest,age,current_stage,dialogue");
        string[] stages = FunnelConfig.Automotive.Stages;
        for (int i = 0; i < count; i++)
        {
            double z = Gaussian(rng);
            int channel = rng.Next(Channels.Length);
            z += ChannelIntent[channel] * 0.5;
            bool prior = rng.NextDouble() < Logistic.Sigmoid(0.8 * z - 2.2);
            string budget = (z + Gaussian(rng) * 0.8) switch { < -0.5 => "low", < 0.7 => "mid", _ => "high" };
            int age = Math.Clamp((int)(42 + 12 * Gaussian(rng)), 19, 80);
            // Stage progression: index 0 = lead, reached by everyone.
            double[] slope = [1.0, 1.1, 1.3, 1.4], offset = [0.6, -0.7, -0.9, -4.5];
            int reached = 0;
            while (reached < 4 && rng.NextDouble() < Logistic.Sigmoid(slope[reached] * z + offset[reached] + (prior ? 0.4 : 0))) reached++;
            bool converted = reached == 4;
            string stage = !converted && rng.NextDouble() < 0.6 ? "lost" : stages[reached];
            int snapshot = Math.Min(reached, rng.NextDouble() < 0.5 ? 1 : 2);
            string? call = reached >= 1 ? (-Math.Log(1 - rng.NextDouble()) * 70 * Math.Exp(0.6 * z)).ToString("F0", CultureInfo.InvariantCulture) : null;
            int phraseCount = rng.Next(2, 7);
            var created = start.AddMinutes(rng.Next(366 * 24 * 60));
            writer.WriteLine(string.Join(",",
                $"L{i + 1:D6}", created.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), converted ? "1" : "0", stage, call ?? "",
                Channels[channel], prior ? "1" : "0", budget, Models[rng.Next(Models.Length)], age.ToString(CultureInfo.InvariantCulture),
                stages[snapshot], Quote(Dialogue(z, phraseCount, rng))));
        }
    }

    /// <summary>The channels, in the order of their intent shifts (referral and walk-in carry most intent, marketplace least).</summary>
    public static IReadOnlyList<string> ChannelNames => Channels;

    /// <summary>The dialogue phrases high intent makes likely.</summary>
    public static IReadOnlyList<string> PositivePhrases => Positive;

    /// <summary>The dialogue phrases of low intent.</summary>
    public static IReadOnlyList<string> NegativePhrases => Negative;

    /// <summary>The models a lead can ask about.</summary>
    public static IReadOnlyList<string> ModelInterests => Models;

    /// <summary>
    /// A dialogue of <paramref name="phraseCount"/> phrases for intent <paramref name="intent"/>: each
    /// positive with probability σ(1.2z − 0.4), else neutral or negative at even odds.
    /// </summary>
    public static string Dialogue(double intent, int phraseCount, Random rng) => string.Join(" ", Enumerable.Range(0, phraseCount).Select(_ =>
        rng.NextDouble() < Logistic.Sigmoid(1.2 * intent - 0.4) ? Positive[rng.Next(Positive.Length)]
        : rng.NextDouble() < 0.5 ? Neutral[rng.Next(Neutral.Length)] : Negative[rng.Next(Negative.Length)]));

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

}
