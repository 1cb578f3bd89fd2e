using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>A two-arm test on split traffic: each arm gets half the leads and half the calls.</summary>
/// <param name="Control">The static scorer's arm.</param>
/// <param name="Treatment">The continuous learner's arm.</param>
/// <param name="ControlConversions">Conversions in the control arm.</param>
/// <param name="TreatmentConversions">Conversions in the treatment arm.</param>
/// <param name="CallsPerArm">Calls made in each arm.</param>
public sealed record AbTest(string Control, string Treatment, int ControlConversions, int TreatmentConversions, int CallsPerArm)
{
    /// <summary>Relative uplift of the treatment's conversions.</summary>
    public double Uplift => ControlConversions == 0 ? double.NaN : (double)TreatmentConversions / ControlConversions - 1;

    /// <summary>Two-proportion z statistic of conversions per call.</summary>
    public double Z
    {
        get
        {
            double p1 = (double)ControlConversions / CallsPerArm, p2 = (double)TreatmentConversions / CallsPerArm, p = (p1 + p2) / 2;
            double se = Math.Sqrt(2 * p * (1 - p) / CallsPerArm);
            return se == 0 ? 0 : (p2 - p1) / se;
        }
    }

    /// <summary>Two-sided p-value of <see cref="Z"/>.</summary>
    public double PValue => 2 * (1 - Statistics.NormalCdf(Math.Abs(Z)));
}
