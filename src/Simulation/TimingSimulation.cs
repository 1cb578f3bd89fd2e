using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>
/// When to call, simulated (<see cref="TimingWorld"/>): every working day the same leads are called under each timing
/// policy (the open leads most likely to convert if reached), and the policy puts each call in a two-hour window under
/// the reps' capacity per window:
/// <list type="bullet">
/// <item><c>uniform</c>: a uniformly random window with room;</item>
/// <item><c>best_slot</c>: the windows of the week that answer best overall, learned by Thompson sampling over slot effects alone (no lead columns), filled in order;</item>
/// <item><c>learned</c>: the service's planner (<see cref="TimingPlanner"/>) on the pick-up model (<see cref="PickupModel"/>: slot effects
///   plus slot groups × the lead's columns): one Thompson draw per day, the assignment that maximises the drawn P(answer) under capacity,
///   and <see cref="TimingOptions.Exploration"/> of the calls in a uniformly random window, each window choice logged with its propensity;</item>
/// <item><c>oracle</c>: the same assignment on the true availability.</item>
/// </list>
/// An answered call converts or closes the lead; an unanswered one leaves it for another day until its attempts or days run out.
/// The learned policy's logs are then used to estimate other timings off-policy (<see cref="OffPolicy.DoublyRobust"/>, each call a
/// choice among the day's windows), checked against their true contact rate on the same calls.
/// </summary>
public sealed class TimingSimulation(TimingOptions options, Action<string>? log = null)
{
    /// <summary>The timing policies compared, in report order.</summary>
    public static readonly string[] Policies = ["uniform", "best_slot", "learned", "oracle"];

    /// <summary>The policies the learned policy's logs estimate off-policy.</summary>
    public static readonly string[] OffPolicyTargets = ["uniform", "best_slot", "learned_greedy", "oracle"];

    private readonly TimingWorld _world = new(options);


    /// <summary>Runs every seed.</summary>
    public TimingResult Run()
    {
        var seeds = new List<TimingSeedResult>();
        for (int s = 0; s < options.Seeds; s++)
        {
            int seed = options.FirstSeed + s;
            var arrivals = Arrivals(seed);
            var runs = Policies.Select(p => RunPolicy(p, seed, arrivals)).ToList();
            var learned = runs.Single(r => r.Name == "learned");
            var checks = OffPolicyTargets.Select(t => Check(t, learned.Log!)).ToList();
            log?.Invoke($"seed {seed}: " + string.Join(", ", runs.Select(r => $"{r.Name} contact {r.ContactRate:P1} conversions {r.Conversions}")));
            seeds.Add(new TimingSeedResult(seed, runs, checks));
        }
        return new TimingResult(options, seeds);
    }

    /// <summary>Every day's arrivals of one seed: the same leads for every policy.</summary>
    private List<List<TimingLead>> Arrivals(int seed)
    {
        var days = new List<List<TimingLead>>();
        int next = 0;
        for (int day = 0; day < options.Days; day++)
        {
            days.Add(_world.Arrivals(day, next, new Random(unchecked(seed * 1_000_003 + day * 7_919 + 17))));
            next += days[^1].Count;
        }
        return days;
    }

    private sealed class LeadState(TimingLead lead, TimingOptions options)
    {
        public TimingLead Lead { get; } = lead;
        public int Attempts { get; set; }
        public int LastCallDay { get; set; } = -1;
        public bool Closed { get; set; }
        // The lead's luck, the same under every policy: its conversion draw, then one answer draw per attempt.
        public double[] Draws { get; } = Luck(lead.Seed, 1 + options.MaxAttempts);

        private static double[] Luck(int seed, int count)
        {
            var rng = new Random(seed);
            return Enumerable.Range(0, count).Select(_ => rng.NextDouble()).ToArray();
        }
    }

    private TimingPolicyRun RunPolicy(string policy, int seed, List<List<TimingLead>> arrivals)
    {
        // Seeds fixed by the run (HashCode and string hashes change from process to process).
        var rng = new Random(unchecked(seed * 1_000_003 + Array.IndexOf(Policies, policy) * 104_729 + 29));
        var model = policy switch { "learned" => new PickupModel(TimingWorld.LeadWidth), "best_slot" => new PickupModel(0), _ => null };
        var states = new List<LeadState>();
        int attempts = 0, answered = 0, conversions = 0;
        double expectedAnswered = 0;
        var weekAttempts = new int[(options.Days + 6) / 7];
        var weekAnswered = new int[weekAttempts.Length];
        var logged = policy == "learned" ? new List<TimingAttempt>() : null;
        var capacity = Enumerable.Repeat(options.CapacityPerWindow, TimingWorld.Bands).ToArray();
        for (int day = 0; day < options.Days; day++)
        {
            states.AddRange(arrivals[day].Select(l => new LeadState(l, options)));
            if (!TimingWorld.IsWorkingDay(day)) continue;
            var calls = states.Where(s => !s.Closed && s.Attempts < options.MaxAttempts && day - s.Lead.ArrivalDay < options.ExpiryDays && s.LastCallDay < day)
                .OrderByDescending(s => TimingWorld.ConversionChance(s.Lead, day)).ThenBy(s => s.Lead.Id).Take(options.CallsPerDay).ToList();
            int[] windows;
            double[][]? propensities = null, predicted = null;
            switch (policy)
            {
                case "uniform":
                    windows = UniformWindows(calls.Count, capacity, rng);
                    break;
                case "oracle":
                    windows = SlotAssignment.Assign(calls.Select(s => Enumerable.Range(0, TimingWorld.Bands).Select(b => _world.Availability(s.Lead, day, b)).ToArray()).ToList(), capacity);
                    break;
                case "best_slot":
                    {
                        var draw = model!.Sample(rng);
                        var perWindow = Enumerable.Range(0, TimingWorld.Bands).Select(b => draw([], TimingWorld.Slot(day, b))).ToArray();
                        windows = SlotAssignment.Assign(calls.Select(_ => perWindow).ToList(), capacity);
                        break;
                    }
                default:
                    var daySlots = Enumerable.Range(0, TimingWorld.Bands).Select(b => TimingWorld.Slot(day, b)).ToArray();
                    var plan = TimingPlanner.Plan(model!, calls.Select(s => (IReadOnlyList<double>)s.Lead.Visible).ToList(), calls.Select(_ => daySlots).ToList(),
                        calls.Select(_ => 1.0).ToList(), capacity, options.Exploration, rng);
                    (windows, propensities, predicted) = (plan.Windows, plan.Propensities, plan.Predicted);
                    break;
            }
            int bestSlot = logged is null ? -1 : BestSlotWindow(model!, day);
            var observed = new List<(double[] Lead, int Slot, bool Answered)>();
            for (int i = 0; i < calls.Count; i++)
            {
                if (windows[i] < 0) continue;
                var s = calls[i];
                double availability = _world.Availability(s.Lead, day, windows[i]);
                bool answer = s.Draws[1 + s.Attempts] < availability;
                if (logged is not null)
                    logged.Add(new TimingAttempt(s.Lead, day, windows[i], propensities![i], predicted![i],
                        Enumerable.Range(0, TimingWorld.Bands).Select(b => _world.Availability(s.Lead, day, b)).ToArray(), answer, bestSlot));
                s.Attempts++;
                s.LastCallDay = day;
                attempts++;
                weekAttempts[day / 7]++;
                expectedAnswered += availability;
                if (answer)
                {
                    answered++;
                    weekAnswered[day / 7]++;
                    s.Closed = true;
                    if (s.Draws[0] < TimingWorld.ConversionChance(s.Lead, day)) conversions++;
                }
                observed.Add((s.Lead.Visible, TimingWorld.Slot(day, windows[i]), answer));
            }
            // The day's attempts are learned once the day is over.
            if (model is not null)
                foreach (var (lead, slot, answer) in observed) model.Observe(policy == "best_slot" ? [] : lead, slot, answer);
        }
        var weekly = weekAttempts.Select((n, w) => n == 0 ? double.NaN : (double)weekAnswered[w] / n).ToArray();
        return new TimingPolicyRun(policy, attempts, answered, conversions, expectedAnswered, weekly, logged, policy == "learned" ? model : null);
    }

    /// <summary>The window whose slot effect (lead columns aside) the logging model rates best on <paramref name="day"/>: the best-slot rule as a per-call target.</summary>
    private static int BestSlotWindow(PickupModel model, int day)
    {
        var none = new double[model.LeadWidth];
        return Enumerable.Range(0, TimingWorld.Bands).MaxBy(b => model.Probability(none, TimingWorld.Slot(day, b)));
    }

    /// <summary>Each call in a uniformly random window that still has room.</summary>
    private static int[] UniformWindows(int calls, int[] capacity, Random rng)
    {
        var left = (int[])capacity.Clone();
        var windows = new int[calls];
        for (int i = 0; i < calls; i++)
        {
            var open = Enumerable.Range(0, left.Length).Where(b => left[b] > 0).ToArray();
            windows[i] = open.Length == 0 ? -1 : open[rng.Next(open.Length)];
            if (windows[i] >= 0) left[windows[i]]--;
        }
        return windows;
    }

    /// <summary>
    /// The off-policy estimate of a target timing's contact rate from the learned policy's logged calls, beside its true value on the
    /// same calls (Σ over windows of the target's chance times the lead's true availability there), without capacity.
    /// </summary>
    private static TimingOffPolicyCheck Check(string target, IReadOnlyList<TimingAttempt> logged)
    {
        double[] Target(TimingAttempt a) => target switch
        {
            "uniform" => Enumerable.Repeat(1.0 / TimingWorld.Bands, TimingWorld.Bands).ToArray(),
            "best_slot" => OneHot(a.BestSlotWindow),
            "learned_greedy" => OneHot(Array.IndexOf(a.Predicted, a.Predicted.Max())),
            _ => OneHot(Array.IndexOf(a.Availability, a.Availability.Max())),
        };
        var lists = logged.Select(a => LoggedList.Of(a.Propensities, Target(a), [a.Window], _ => a.Answered ? 1 : 0, a.Predicted)).ToList();
        double truth = logged.Average(a => Target(a).Zip(a.Availability, (p, v) => p * v).Sum());
        var estimate = OffPolicy.DoublyRobust(lists);
        return new TimingOffPolicyCheck(target, truth, estimate.Value, estimate.Low, estimate.High, OffPolicy.UnsupportedShare(lists));
    }

    private static double[] OneHot(int window)
    {
        var v = new double[TimingWorld.Bands];
        v[window] = 1;
        return v;
    }
}

/// <summary>One call the learned policy made, as the off-policy check and the heatmap read it.</summary>
/// <param name="Lead">The lead called.</param>
/// <param name="Day">The day.</param>
/// <param name="Window">The working window (0 = 8–10).</param>
/// <param name="Propensities">The policy's chance of each window for this call.</param>
/// <param name="Predicted">The pick-up model's P(answer) per window when the day was planned.</param>
/// <param name="Availability">The lead's true P(answer) per window that day.</param>
/// <param name="Answered">Whether it was answered.</param>
/// <param name="BestSlotWindow">The window the model's slot effects rated best that day.</param>
public sealed record TimingAttempt(TimingLead Lead, int Day, int Window, double[] Propensities, double[] Predicted, double[] Availability, bool Answered,
    int BestSlotWindow);
