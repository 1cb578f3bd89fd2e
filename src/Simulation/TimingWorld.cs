using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>
/// A call centre's week in hours: leads of four kinds (employed people, reachable evenings and Saturdays; retired people,
/// mornings; businesses, office hours; students, afternoons and evenings), each with its own responsiveness, and reps who
/// call Monday to Saturday from 8 to 22 in two-hour windows (<see cref="CallSlots"/> bands 4–10). Availability drifts:
/// over the run employed people become reachable by day (hybrid work) and retired people later in the morning, by
/// <see cref="TimingOptions.Drift"/>. A call is answered with the lead's availability in its window; an answered call
/// converts with the lead's conversion chance, which fades as the lead ages; an unanswered call uses capacity and earns
/// nothing. Every kind shares a lunch dip, an evening lift and busy Mondays. What a learner sees of a lead is its occupation
/// column (unknown for 15%), never its kind or availability.
/// </summary>
public sealed class TimingWorld(TimingOptions options)
{
    /// <summary>The kinds of lead: what availability follows.</summary>
    public static readonly string[] Segments = ["employed", "retired", "business", "student"];

    private static readonly double[] SegmentShares = [0.45, 0.2, 0.2, 0.15];

    /// <summary>The first and last working band of a day (8–10 … 20–22).</summary>
    public const int FirstBand = 4, LastBand = 10;

    /// <summary>Working bands per day.</summary>
    public const int Bands = LastBand - FirstBand + 1;

    // Availability by kind on weekdays and Saturdays, per working band 8–10 … 20–22, at the start of the run.
    private static readonly double[][] Weekday =
    [
        [0.25, 0.08, 0.12, 0.08, 0.20, 0.50, 0.60], // employed
        [0.65, 0.60, 0.35, 0.40, 0.40, 0.30, 0.15], // retired
        [0.40, 0.65, 0.45, 0.65, 0.50, 0.10, 0.05], // business
        [0.08, 0.15, 0.35, 0.45, 0.45, 0.55, 0.50], // student
    ];
    private static readonly double[] Saturday = [0.50, 0.40, 0.10, 0.30];

    // What every kind shares: a lunch dip and an evening lift by window, busy Mondays and Friday afternoons.
    private static readonly double[] WindowFactor = [1.0, 0.9, 0.7, 0.9, 1.0, 1.2, 1.1];
    private static readonly double[] DayFactor = [0.85, 1.0, 1.0, 1.0, 0.9, 1.0];

    /// <summary>The width of a lead's visible columns: occupation one-hot (all zeros when unknown).</summary>
    public static int LeadWidth => Segments.Length;

    /// <summary>Draws the leads arriving on <paramref name="day"/>, ids from <paramref name="firstId"/>.</summary>
    public List<TimingLead> Arrivals(int day, int firstId, Random rng)
    {
        var leads = new List<TimingLead>(options.LeadsPerDay);
        for (int i = 0; i < options.LeadsPerDay; i++)
        {
            double u = rng.NextDouble();
            int segment = 0;
            for (double c = SegmentShares[0]; u > c && segment < Segments.Length - 1; c += SegmentShares[++segment]) { }
            var visible = new double[LeadWidth];
            if (rng.NextDouble() >= 0.15) visible[segment] = 1;
            double responsiveness = Math.Exp(0.35 * Statistics.StandardNormal(rng) - 0.06);
            double convert = Logistic(-1.7 + 0.8 * Statistics.StandardNormal(rng));
            leads.Add(new TimingLead(firstId + i, day, segment, visible, responsiveness, convert, rng.Next()));
        }
        return leads;
    }

    /// <summary>P(answer) of <paramref name="lead"/> called in working band <paramref name="band"/> (0 = 8–10) on <paramref name="day"/>.</summary>
    public double Availability(TimingLead lead, int day, int band)
    {
        double t = options.Drift * day / Math.Max(1, options.Days - 1);
        double a = IsSaturday(day) ? Saturday[lead.Segment] : Weekday[lead.Segment][band];
        if (!IsSaturday(day))
        {
            if (lead.Segment == 0 && band is >= 1 and <= 3) a += 0.25 * t;               // employed: hybrid work, reachable by day
            if (lead.Segment == 1) a += band == 0 ? -0.3 * t : band == 2 ? 0.25 * t : 0;  // retired: later mornings
        }
        return Math.Clamp(a * WindowFactor[band] * DayFactor[day % 7] * lead.Responsiveness, 0.01, 0.95);
    }

    /// <summary>P(converts | answered) of a lead on <paramref name="day"/>: its chance, fading 6% a day from arrival.</summary>
    public static double ConversionChance(TimingLead lead, int day) => lead.ConvertIfAnswered * Math.Pow(0.94, day - lead.ArrivalDay);

    /// <summary>Days run Monday (day 0) to Sunday; no calls on Sundays.</summary>
    public static bool IsWorkingDay(int day) => day % 7 != 6;

    private static bool IsSaturday(int day) => day % 7 == 5;

    /// <summary>The week slot (<see cref="CallSlots"/>) of working band <paramref name="band"/> on <paramref name="day"/>.</summary>
    public static int Slot(int day, int band) => day % 7 * CallSlots.BandsPerDay + FirstBand + band;

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
}

/// <summary>A simulated lead of the timing world.</summary>
/// <param name="Id">Its id.</param>
/// <param name="ArrivalDay">The day it arrived.</param>
/// <param name="Segment">Its kind (<see cref="TimingWorld.Segments"/>): hidden from the policies.</param>
/// <param name="Visible">What a learner sees: its occupation column, one-hot, all zeros when unknown.</param>
/// <param name="Responsiveness">Its own multiplier of its kind's availability: hidden.</param>
/// <param name="ConvertIfAnswered">P(converts | answered) on arrival: hidden.</param>
/// <param name="Seed">Seeds its draws (answers, conversion), so every policy meets the same luck with it.</param>
public sealed record TimingLead(int Id, int ArrivalDay, int Segment, double[] Visible, double Responsiveness, double ConvertIfAnswered, int Seed);
