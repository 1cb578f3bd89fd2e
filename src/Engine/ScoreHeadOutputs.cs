namespace LeadEngine.Engine;

/// <summary>The score heads' outputs over a batch, one entry per sequence.</summary>
/// <param name="PointwiseLogits">Pointwise head logit per sequence.</param>
/// <param name="PairwiseScores">Pairwise head score per sequence.</param>
public sealed record ScoreHeadOutputs(float[] PointwiseLogits, float[] PairwiseScores)
{
    /// <summary>From the head kernel's [B, 2] output (pointwise, pairwise per row).</summary>
    internal static ScoreHeadOutputs FromInterleaved(float[] scores) =>
        new(scores.Where((_, i) => i % 2 == 0).ToArray(), scores.Where((_, i) => i % 2 == 1).ToArray());
}
