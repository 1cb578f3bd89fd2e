namespace LeadEngine.Training;

/// <summary>The three losses and their weighted total.</summary>
/// <param name="Bce">Pointwise BCE.</param>
/// <param name="Hpro">Pairwise HPRO.</param>
/// <param name="Lm">Semantic LM cross-entropy.</param>
/// <param name="Total">w_bce·BCE + w_hpro·HPRO + w_lm·LM.</param>
public sealed record LossTerms(double Bce, double Hpro, double Lm, double Total);
