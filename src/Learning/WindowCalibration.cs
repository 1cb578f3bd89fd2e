namespace LeadEngine.Learning;

/// <summary>Predicted against observed conversion over the leads of a window whose outcome is final.</summary>
/// <param name="Leads">Leads with a final outcome (converted or lost).</param>
/// <param name="MeanPredicted">Mean probability served for them.</param>
/// <param name="ObservedRate">Share that converted.</param>
/// <param name="Ece">Expected calibration error over 10 bins.</param>
public sealed record WindowCalibration(int Leads, double MeanPredicted, double ObservedRate, double Ece);
