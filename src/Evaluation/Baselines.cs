using LeadEngine.LeadScoring;

namespace LeadEngine.Evaluation;

/// <summary>
/// Funnel + Recency: rank by the stage the lead has reached when it is scored (the
/// <c>current_stage</c> feature, if the data have it), then by recency. The outcome column
/// <c>stage</c> is never used: it would leak the label. Scores are ranks, not probabilities.
/// With a CTR model's probabilities as the tie-break it is the paper's two-stage Funnel+CTR.
/// </summary>
public static class FunnelRecencyBaseline
{
    /// <summary>The feature holding the stage at scoring time.</summary>
    public const string CurrentStageFeature = "current_stage";

    /// <summary>
    /// Higher is better: stage index, then <paramref name="withinStage"/> (values in [0, 1], e.g. a
    /// model's probability) or, without it, creation time as a fraction of the span.
    /// </summary>
    public static double[] Score(IReadOnlyList<Lead> leads, FunnelConfig funnel, IReadOnlyList<double>? withinStage = null)
    {
        if (leads.Count == 0) return [];
        if (withinStage is not null && withinStage.Count != leads.Count)
            throw new ArgumentException($"{withinStage.Count} within-stage scores for {leads.Count} leads", nameof(withinStage));
        long min = leads.Min(l => l.CreatedAt.UtcTicks), span = Math.Max(1, leads.Max(l => l.CreatedAt.UtcTicks) - min);
        return leads.Select((l, i) =>
        {
            string? stage = l.Features.FirstOrDefault(f => f.Key == CurrentStageFeature).Value;
            int index = stage is null ? 0 : Math.Max(0, Array.IndexOf(funnel.Stages, stage));
            return index + 0.999 * (withinStage?[i] ?? (double)(l.CreatedAt.UtcTicks - min) / span);
        }).ToArray();
    }
}
