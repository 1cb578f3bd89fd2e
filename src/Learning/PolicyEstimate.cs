namespace LeadEngine.Learning;

/// <summary>An estimate of a policy's value per list with a 95% interval.</summary>
public sealed record PolicyEstimate(double Value, double Low, double High);
