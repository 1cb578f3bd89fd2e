namespace LeadEngine.Engine;

/// <summary>The logistic function and its inverse: the one σ every head, loss, blend and simulated world uses.</summary>
public static class Logistic
{
    /// <summary>σ(x) = 1 / (1 + e^−x); in double precision e^−x overflowing to ∞ gives 0, so no branch is needed.</summary>
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>log(p / (1 − p)), with p kept off 0 and 1 so a saturated probability still compares.</summary>
    public static double LogOdds(double p)
    {
        p = Math.Clamp(p, 1e-9, 1 - 1e-9);
        return Math.Log(p / (1 - p));
    }
}
