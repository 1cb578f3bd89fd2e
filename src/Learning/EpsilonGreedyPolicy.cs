namespace LeadEngine.Learning;

/// <summary>Epsilon-greedy: the greedy top K, or with probability ε a uniform random K; inclusion (1 − ε)·[in top K] + ε·K/N, exactly.</summary>
public sealed class EpsilonGreedyPolicy(double epsilon) : UniformMixturePolicy(new GreedyPolicy(), epsilon)
{
    /// <inheritdoc />
    public override string Name => $"epsilon-greedy({Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)})";
}
