namespace LeadEngine.Feedback;

/// <summary>Every version a store has had and every change of the one that serves, oldest first.</summary>
/// <param name="Versions">Every version, by id.</param>
/// <param name="Promotions">Every change, in order.</param>
public sealed record ModelHistory(IReadOnlyList<ModelVersion> Versions, IReadOnlyList<ModelPromotion> Promotions)
{
    /// <summary>The change in force (null for a store without a history).</summary>
    public ModelPromotion? Current => Promotions.Count == 0 ? null : Promotions[^1];
}
