namespace LeadEngine.LeadScoring;

/// <summary>What a gradient-boosted tree model learns from and to.</summary>
public enum GbdtObjective
{
    /// <summary>Binary log-loss on the converted label: calibrated probabilities.</summary>
    Binary,
    /// <summary>LambdaRank with the funnel as graded relevance (<see cref="GbdtModel.Relevance"/>), within groups of leads adjacent in time: scores, not probabilities.</summary>
    LambdaRank,
}
