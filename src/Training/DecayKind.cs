namespace LeadEngine.Training;

/// <summary>How the learning rate moves after warmup.</summary>
public enum DecayKind
{
    /// <summary>Half-cosine to zero at the last step.</summary>
    Cosine,
    /// <summary>Straight line to zero at the last step.</summary>
    Linear,
    /// <summary>No decay.</summary>
    Constant,
}
