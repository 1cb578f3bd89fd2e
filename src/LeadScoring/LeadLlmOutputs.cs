namespace LeadEngine.LeadScoring;

/// <summary>What the heads give for one lead: the stacked tree model's extra inputs (<see cref="Names"/>, in <see cref="Inputs"/> order).</summary>
/// <param name="PointwiseLogit">The pointwise head's logit.</param>
/// <param name="PairwiseScore">The pairwise head's ranking score.</param>
/// <param name="YesMinusNo">The LM head's Yes − No logit.</param>
public readonly record struct LeadLlmOutputs(float PointwiseLogit, float PairwiseScore, float YesMinusNo)
{
    /// <summary>The stacked tree model's names for <see cref="Inputs"/>.</summary>
    public static readonly string[] Names = ["pointwise_logit", "pairwise_score", "lm_yes_minus_no"];

    /// <summary>The three values as the tree model's extra inputs.</summary>
    public float[] Inputs => [PointwiseLogit, PairwiseScore, YesMinusNo];

    /// <summary>Each lead's <see cref="Inputs"/>, for <see cref="GbdtModel"/>.</summary>
    public static IReadOnlyList<float[]> InputsOf(IEnumerable<LeadLlmOutputs> outputs) => outputs.Select(o => o.Inputs).ToList();
}
