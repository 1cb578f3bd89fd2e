namespace LeadEngine.Simulation;

/// <summary>One policy over the replayed days: calls, conversions among them, and conversions by day (cumulative).</summary>
public sealed record ReplayPolicy(string Name, int Calls, int Conversions, double[] Cumulative);
