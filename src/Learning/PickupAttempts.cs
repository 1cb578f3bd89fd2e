using LeadEngine.Feedback;
using LeadEngine.LeadScoring;

namespace LeadEngine.Learning;

/// <summary>The call attempts among stored events, each with its lead and the slot of the week it fell in for that lead (<see cref="LeadClock"/>).</summary>
public static class PickupAttempts
{
    /// <summary>
    /// Every event that reports an attempt (<see cref="OutcomeEvent.Attempt"/>) whose lead is in <paramref name="leads"/>, with the slot of its
    /// time in the lead's clock (<paramref name="zone"/> for a lead without one).
    /// </summary>
    public static IReadOnlyList<(Lead Lead, int Slot, bool Answered)> Of(IEnumerable<OutcomeEvent> events, IReadOnlyDictionary<string, LeadSnapshot> leads,
        TimeZoneInfo zone)
    {
        var read = new Dictionary<string, Lead>(StringComparer.Ordinal);
        var attempts = new List<(Lead, int, bool)>();
        foreach (var e in events)
        {
            if (e.Attempt is not { } answered || !leads.TryGetValue(e.LeadId, out var snapshot)) continue;
            if (!read.TryGetValue(e.LeadId, out var lead)) read[e.LeadId] = lead = StoredLead.FromJson(snapshot.Fields);
            attempts.Add((lead, LeadClock.SlotOf(lead, e.At, zone), answered));
        }
        return attempts;
    }
}
