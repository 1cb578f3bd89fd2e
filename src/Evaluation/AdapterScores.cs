using LeadEngine.LeadScoring;

namespace LeadEngine.Evaluation;

/// <summary>An adapter's scores on the test leads, for the eval table.</summary>
/// <param name="Name">Its row name.</param>
/// <param name="Scores">Its scores.</param>
/// <param name="PairwiseHeadTrained">False when it was trained without HPRO: its pairwise head is untrained and gets no row.</param>
public sealed record AdapterScores(string Name, IReadOnlyList<LeadScore> Scores, bool PairwiseHeadTrained);
