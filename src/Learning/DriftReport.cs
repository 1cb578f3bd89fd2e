namespace LeadEngine.Learning;

/// <summary>How one window of served scores compares with a reference window.</summary>
/// <param name="ReferenceScores">Scores served in the reference window.</param>
/// <param name="CurrentScores">Scores served in the current window.</param>
/// <param name="Psi">Population stability index of the probabilities (below 0.1 stable, 0.1–0.25 moderate, above 0.25 a major shift).</param>
/// <param name="ReferenceCalibration">Calibration of the reference window's closed leads (null without any).</param>
/// <param name="CurrentCalibration">Calibration of the current window's closed leads (null without any).</param>
public sealed record DriftReport(int ReferenceScores, int CurrentScores, double Psi, WindowCalibration? ReferenceCalibration, WindowCalibration? CurrentCalibration);
