using System.Text.Json;
using LeadEngine.Learning;
using LeadEngine.Simulation;

namespace LeadEngine.Tests.Learning;

/// <summary>When to call: slots of the week, the pick-up model, the assignment under capacity, and the timing simulation.</summary>
public sealed class TimingTests
{
    [Fact]
    public void SlotsAreTwoHourBandsOfTheLocalWeekMondayFirst()
    {
        var monday9 = new DateTimeOffset(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);
        Assert.Equal(4, CallSlots.Of(monday9, TimeSpan.Zero));
        Assert.Equal("Mon 08–10", CallSlots.Name(4));
        // 09:30 UTC is 23:30 in UTC+14 … and Sunday 23:30 in UTC−10 (the day before).
        Assert.Equal(11, CallSlots.Of(monday9, TimeSpan.FromHours(14)));
        Assert.Equal(6 * 12 + 11, CallSlots.Of(monday9, TimeSpan.FromHours(-10)));
        Assert.Equal(0, CallSlots.Group(4));          // weekday morning
        Assert.Equal(2, CallSlots.Group(9));          // weekday 18–20: evening
        Assert.Equal(4 + 1, CallSlots.Group(5 * 12 + 7)); // Saturday 14–16: weekend afternoon
        Assert.Equal(3, CallSlots.Group(0));          // night
    }

    /// <summary>The assignment never puts more leads in a window than it holds, and its total matches a brute-force search on small cases.</summary>
    [Fact]
    public void AssignmentRespectsCapacityAndIsOptimal()
    {
        var rng = new Random(5);
        for (int round = 0; round < 40; round++)
        {
            int leads = rng.Next(1, 7), windows = rng.Next(1, 4);
            var value = Enumerable.Range(0, leads).Select(_ => Enumerable.Range(0, windows).Select(_ => Math.Round(rng.NextDouble(), 3)).ToArray()).ToList();
            var capacity = Enumerable.Range(0, windows).Select(_ => rng.Next(0, 3)).ToArray();
            var assigned = SlotAssignment.Assign(value, capacity);
            for (int j = 0; j < windows; j++) Assert.True(assigned.Count(a => a == j) <= capacity[j]);
            var (placed, total) = Best(value, capacity, 0, (int[])capacity.Clone());
            Assert.Equal(placed, assigned.Count(a => a >= 0));
            Assert.Equal(total, assigned.Select((a, i) => a < 0 ? 0 : value[i][a]).Sum(), 6);
        }
    }

    /// <summary>The most leads placed, then the largest total, by trying every choice (−1: unplaced).</summary>
    private static (int Placed, double Total) Best(IReadOnlyList<double[]> value, int[] capacity, int lead, int[] left)
    {
        if (lead == value.Count) return (0, 0);
        var best = Best(value, capacity, lead + 1, left);
        for (int j = 0; j < capacity.Length; j++)
        {
            if (left[j] == 0) continue;
            left[j]--;
            var (placed, total) = Best(value, capacity, lead + 1, left);
            left[j]++;
            if (placed + 1 > best.Placed || placed + 1 == best.Placed && total + value[lead][j] > best.Total + 1e-12) best = (placed + 1, total + value[lead][j]);
        }
        return best;
    }

    [Fact]
    public void AWindowALeadMayNotTakeIsLeftOut()
    {
        var assigned = SlotAssignment.Assign([[double.NaN, 0.2], [0.9, double.NaN]], [1, 1]);
        Assert.Equal([1, 0], assigned);
    }

    /// <summary>
    /// From attempts alone the model learns that one kind of lead answers in the evening and another in the morning: each
    /// kind's best slot comes out right, and the observed heatmap counts every attempt.
    /// </summary>
    [Fact]
    public void ThePickupModelLearnsWhenEachKindAnswers()
    {
        var model = new PickupModel(2);
        var rng = new Random(3);
        double[] evening = [1, 0], morning = [0, 1];
        int mondayMorning = 4, mondayEvening = 9;
        var attempts = new List<(int, bool)>();
        for (int i = 0; i < 600; i++)
        {
            bool eveningKind = i % 2 == 0;
            int slot = rng.Next(2) == 0 ? mondayMorning : mondayEvening;
            double p = eveningKind == (slot == mondayEvening) ? 0.6 : 0.1;
            bool answered = rng.NextDouble() < p;
            model.Observe(eveningKind ? evening : morning, slot, answered);
            attempts.Add((slot, answered));
        }
        Assert.Equal(600, model.Attempts);
        Assert.InRange(model.Probability(evening, mondayEvening), 0.5, 0.7);
        Assert.InRange(model.Probability(evening, mondayMorning), 0.0, 0.2);
        Assert.True(model.Probability(morning, mondayMorning) > model.Probability(morning, mondayEvening) + 0.3);
        // What Monday evening taught carries to Tuesday evening through the shared band effect.
        Assert.True(model.Probability(evening, 12 + 9) > model.Probability(evening, 12 + 4));
        var observed = PickupHeatmap.Observed(attempts);
        Assert.Equal(600, observed.Counts[0, 4] + observed.Counts[0, 9]);
        Assert.True(double.IsNaN(observed.Rates[1, 4]));
    }

    /// <summary>
    /// A short run of the timing simulation (two weeks, one seed) reports every policy, learned timing reaches more leads than
    /// uniform timing on the same leads and luck, the oracle most, and the JSON has the fields <c>simulate --timing --json</c> promises.
    /// </summary>
    [Fact]
    public void TheTimingSimulationComparesThePoliciesOnTheSameLeads()
    {
        var result = new TimingSimulation(new TimingOptions { Days = 14, Seeds = 2 }).Run();
        var seed = result.Seeds[0];
        Assert.Equal(TimingSimulation.Policies, seed.Runs.Select(r => r.Name));
        Assert.All(seed.Runs, r => Assert.Equal(seed.Run("uniform").Attempts, r.Attempts, 0.05 * r.Attempts));
        Assert.True(seed.Run("learned").ContactRate > seed.Run("uniform").ContactRate);
        Assert.True(seed.Run("oracle").ContactRate >= seed.Run("learned").ContactRate);
        using var json = JsonDocument.Parse(result.Json());
        var timing = json.RootElement.GetProperty("timing");
        Assert.Equal(TimingSimulation.Policies, timing.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.All(timing.GetProperty("policies").EnumerateArray(), p =>
        {
            Assert.InRange(p.GetProperty("contact_rate").GetDouble(), 0, 1);
            Assert.True(p.GetProperty("conversions").GetDouble() >= 0);
        });
        Assert.Equal(3, timing.GetProperty("gain_over_uniform").GetProperty("contact_rate").GetArrayLength());
        Assert.Equal(3, timing.GetProperty("gain_over_uniform").GetProperty("conversions").GetArrayLength());
        Assert.Equal(2 * TimingSimulation.OffPolicyTargets.Length, timing.GetProperty("off_policy").GetArrayLength());
    }

    /// <summary>
    /// Timing from logs that were not randomised: stratum A is called mostly on Mondays and converts more, so the raw Monday rate
    /// flatters Monday; with propensities estimated within strata the "everyone on Tuesday" estimate holds its true rate.
    /// </summary>
    [Fact]
    public void LoggedTimingUndoesAConfoundedChoiceOfDay()
    {
        var rng = new Random(4);
        var leads = new List<LeadScoring.Lead>();
        // True conversion: stratum A 30% on Monday, 40% on Tuesday; stratum B 5% and 10%. A is called on Monday 90% of the time, B 10%.
        for (int i = 0; i < 20000; i++)
        {
            bool a = i % 2 == 0;
            bool onMonday = rng.NextDouble() < (a ? 0.9 : 0.1);
            double p = a ? (onMonday ? 0.3 : 0.4) : (onMonday ? 0.05 : 0.10);
            leads.Add(new LeadScoring.Lead
            {
                Id = $"L{i}", CreatedAt = DateTimeOffset.UnixEpoch, Converted = rng.NextDouble() < p ? 1 : 0,
                Features = [new("segment", a ? "A" : "B"), new("day", onMonday ? "mon" : "tue")],
            });
        }
        var result = LoggedTiming.Estimate(leads, "day", ["segment"]);
        var tuesday = result.Slots.Single(s => s.Slot == "tue");
        var monday = result.Slots.Single(s => s.Slot == "mon");
        Assert.True(monday.LoggedRate > tuesday.LoggedRate); // the confounded view
        Assert.InRange(0.25, tuesday.AllCalledThen.Low, tuesday.AllCalledThen.High);   // (0.40 + 0.10) / 2
        Assert.InRange(0.175, monday.AllCalledThen.Low, monday.AllCalledThen.High);    // (0.30 + 0.05) / 2
        Assert.InRange(0.25, result.BestPerStratum.Low, result.BestPerStratum.High);   // Tuesday is best in both strata
        Assert.Contains("cannot", result.Markdown());
    }
}
