using Google.OrTools.Graph;

namespace LeadEngine.Learning;

/// <summary>
/// Which window each lead is called in when the reps' capacity per window is limited: the assignment of leads to windows
/// that places as many leads as capacity allows and, among those, maximises the summed value (P(answer)). A min-cost
/// flow (Google OR-Tools): source → lead (capacity 1) → window (cost −value, in millionths) → sink (the window's capacity).
/// </summary>
public static class SlotAssignment
{
    /// <summary>Value resolution of the flow's integer costs.</summary>
    private const double Scale = 1e6;

    /// <summary>
    /// The window of each lead (an index into <paramref name="capacity"/>), −1 for a lead no window had room for.
    /// <paramref name="value"/>[i][j] is lead i's value in window j; NaN marks a window the lead may not take.
    /// </summary>
    public static int[] Assign(IReadOnlyList<double[]> value, IReadOnlyList<int> capacity)
    {
        int leads = value.Count, windows = capacity.Count;
        var assigned = Enumerable.Repeat(-1, leads).ToArray();
        if (leads == 0 || windows == 0) return assigned;
        int source = 0, sink = leads + windows + 1;
        var flow = new MinCostFlow();
        var arcs = new List<(int Arc, int Lead, int Window)>();
        for (int i = 0; i < leads; i++)
        {
            if (value[i].Length != windows) throw new ArgumentException($"lead {i} has {value[i].Length} values for {windows} windows");
            flow.AddArcWithCapacityAndUnitCost(source, 1 + i, 1, 0);
            for (int j = 0; j < windows; j++)
                if (!double.IsNaN(value[i][j]))
                    arcs.Add((flow.AddArcWithCapacityAndUnitCost(1 + i, 1 + leads + j, 1, -(long)Math.Round(value[i][j] * Scale)), i, j));
        }
        for (int j = 0; j < windows; j++)
            if (capacity[j] > 0) flow.AddArcWithCapacityAndUnitCost(1 + leads + j, sink, capacity[j], 0);
        // Supply every lead at the source and demand as much at the sink: the solver sends as much of it as capacity lets through.
        flow.SetNodeSupply(source, leads);
        flow.SetNodeSupply(sink, -leads);
        var status = flow.SolveMaxFlowWithMinCost();
        if (status != MinCostFlowBase.Status.OPTIMAL) throw new InvalidOperationException($"slot assignment: the flow solver ended {status}");
        foreach (var (arc, lead, window) in arcs)
            if (flow.Flow(arc) > 0) assigned[lead] = window;
        return assigned;
    }
}
