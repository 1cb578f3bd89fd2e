namespace LeadEngine.Training;

/// <summary>Weights of the three loss terms (defaults 1.0 / 0.5 / 0.2).</summary>
public sealed record LossWeights(double Bce = 1.0, double Hpro = 0.5, double Lm = 0.2);
