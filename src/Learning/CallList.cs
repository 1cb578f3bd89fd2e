namespace LeadEngine.Learning;

/// <summary>
/// A call list: the chosen candidates in rank order, and every candidate's propensity, the
/// probability that the policy puts it on a list of this length (they sum to the list length).
/// </summary>
/// <param name="Chosen">Indices into the candidate set, best first.</param>
/// <param name="Inclusion">Per candidate, P(on the list) under the policy.</param>
/// <param name="Explored">How many of the last chosen are exploration slots (<see cref="ExplorationSlotsPolicy"/>), not the policy's own choice.</param>
public sealed record CallList(IReadOnlyList<int> Chosen, double[] Inclusion, int Explored = 0);
