namespace LeadEngine.Evaluation;

/// <summary>One line of a chart: a name for the legend and its points.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);
