namespace LeadEngine.Feedback;

/// <summary>How many open leads a call list of K is chosen from: <see cref="Head"/> by last probability and a <see cref="Tail"/> sample of the rest.</summary>
/// <param name="Head">The best callable leads by last probability.</param>
/// <param name="Tail">Sampled from the other callable leads, so that every open lead keeps a chance of a call and a logged propensity.</param>
public readonly record struct CallPoolSize(int Head, int Tail)
{
    /// <summary>
    /// The pool for a list of <paramref name="k"/>: a head of 10·K + 100 (a Thompson draw or an exploration slot reaches far below rank K
    /// only where the posterior is wide, and then the tail is there), a tail of 2·K + 20.
    /// </summary>
    public static CallPoolSize For(int k) => new(4 * k + 50, k + 10);
}
