namespace LeadEngine.Simulation;

/// <summary>One policy's result in one world.</summary>
/// <param name="Name">random, funnel_recency, static, periodic, continuous, oracle.</param>
/// <param name="Conversions">Leads that converted when called.</param>
/// <param name="ExpectedConversions">Σ of the true conversion probabilities of the leads it called.</param>
/// <param name="Regret">Σ over days of (the best K of that day's open leads) − (its K), in expected conversions.</param>
/// <param name="CumulativeExpected">Expected conversions up to and including each day.</param>
public sealed record PolicyRun(string Name, int Conversions, double ExpectedConversions, double Regret, double[] CumulativeExpected);
