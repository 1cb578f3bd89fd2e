using LeadEngine.Training;
using LeadEngine.LeadScoring;

using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Training batches from leads: each lead's prompt, its converted label, and all funnel preference
/// pairs within the batch. Batches are natural random samples (seeded), so the pointwise head
/// sees the true base rate and stays calibrated while HPRO uses every pair the batch contains.
/// </summary>
public static class LeadBatches
{
    /// <summary>
    /// Splits <paramref name="leads"/> into shuffled batches of <paramref name="batchSize"/>, with each
    /// lead's encoded columns when <paramref name="features"/> is given (wide-and-deep heads).
    /// </summary>
    public static List<ObjectiveBatch> Build(IReadOnlyList<Lead> leads, PromptBuilder prompts, FunnelPairBuilder pairs, int batchSize, int seed,
        LeadFeatureEncoder? features = null)
    {
        foreach (var lead in leads)
        {
            if (lead.Converted is null || lead.Stage is null)
                throw new InvalidDataException($"lead '{lead.Id}': training needs the converted label and the stage");
        }
        var order = Enumerable.Range(0, leads.Count).ToArray();
        new Random(seed).Shuffle(order);
        var batches = new List<ObjectiveBatch>();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var members = order[start..Math.Min(order.Length, start + batchSize)].Select(i => leads[i]).ToList();
            batches.Add(new ObjectiveBatch
            {
                Sequences = members.Select(l => prompts.Build(l).Ids).ToArray(),
                Labels = members.Select(l => l.Converted!.Value).ToArray(),
                Pairs = [.. pairs.BuildWithinBatch(members)],
                TierMargins = pairs.Funnel.TierMargins,
                YesTokenId = prompts.YesTokenId,
                NoTokenId = prompts.NoTokenId,
                Features = features is null ? null : members.Select(features.EncodeSingle).ToArray(),
            });
        }
        return batches;
    }
}
