using LeadEngine.Engine;
using System.Text.RegularExpressions;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Reasons by occlusion, computed on the model itself and on the score users get: each feature column and
/// each sentence of the dialogue is left out in turn (as a missing value: out of the prompt, out of the
/// encoded columns, missing to the tree models), the lead is scored again, and the change in the
/// probability's log-odds is that part's contribution. Exact for whichever model makes the probability
/// (wide-and-deep heads, the blend or the trees alone), at the cost of one forward pass per part, batched.
/// </summary>
public static partial class ScoreExplanations
{
    /// <summary>A reason that is a feature column.</summary>
    public const string FeatureKind = "feature";

    /// <summary>A reason that is a span of the dialogue.</summary>
    public const string DialogueKind = "dialogue";

    /// <summary>Contributions smaller than this (in log-odds) are no reason either way.</summary>
    public const double Negligible = 1e-6;

    /// <summary>The leads to score for reasons: each lead once per part left out, and which part that is.</summary>
    /// <param name="Leads">The variants, in part order.</param>
    /// <param name="Parts">Per variant: the lead it comes from and the part it leaves out.</param>
    private sealed record Occlusions(IReadOnlyList<Lead> Leads, IReadOnlyList<(int Lead, string Kind, string Name, string? Value)> Parts);

    /// <summary>How many parts <see cref="Variants"/> leaves out, one forward pass each (counted without building them).</summary>
    public static int PartCount(IReadOnlyList<Lead> leads) => leads.Sum(l => l.Features.Count + Spans(l.Dialogue).Count);

    /// <summary>Each lead with one feature column or one dialogue sentence left out in turn (as a missing value).</summary>
    private static Occlusions Variants(IReadOnlyList<Lead> leads)
    {
        var variants = new List<Lead>();
        var parts = new List<(int Lead, string Kind, string Name, string? Value)>();
        for (int i = 0; i < leads.Count; i++)
        {
            var lead = leads[i];
            for (int f = 0; f < lead.Features.Count; f++)
            {
                parts.Add((i, FeatureKind, lead.Features[f].Key, lead.Features[f].Value));
                variants.Add(lead with { Features = [.. lead.Features.Take(f), .. lead.Features.Skip(f + 1)] });
            }
            var spans = Spans(lead.Dialogue);
            for (int s = 0; s < spans.Count; s++)
            {
                parts.Add((i, DialogueKind, spans[s], null));
                variants.Add(lead with { Dialogue = string.Join(" ", spans.Take(s).Concat(spans.Skip(s + 1))) is { Length: > 0 } rest ? rest : null });
            }
        }
        return new Occlusions(variants, parts);
    }

    /// <summary>
    /// The one explanation flow, for the embedded scorer and the service alike: builds each lead's occlusions, has
    /// <paramref name="score"/> score them (with the leads themselves in the same call unless <paramref name="scores"/> gives
    /// their scores already), and returns each lead's up to <paramref name="top"/> positive and negative reasons.
    /// </summary>
    /// <param name="leads">The leads to explain.</param>
    /// <param name="scores">Their scores from the same model, when the caller has them; null to score them with the occlusions.</param>
    /// <param name="score">Scores leads on the model being explained (the scorer itself, or the service's queue).</param>
    /// <param name="top">Reasons each way per lead.</param>
    public static async Task<IReadOnlyList<LeadExplanation>> ExplainAsync(IReadOnlyList<Lead> leads, IReadOnlyList<LeadScore>? scores,
        Func<IReadOnlyList<Lead>, Task<IReadOnlyList<LeadScore>>> score, int top = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        if (scores is not null && (scores.Count != leads.Count || scores.Where((s, i) => s.LeadId != leads[i].Id).Any()))
            throw new ArgumentException($"the {scores.Count} scores given are not those of the {leads.Count} leads, in order", nameof(scores));
        var occlusions = Variants(leads);
        // One pass over the leads themselves (unless scored) and every variant in part order.
        var all = await score(scores is null ? [.. leads, .. occlusions.Leads] : occlusions.Leads);
        return Reasons(leads, scores ?? all.Take(leads.Count).ToList(), occlusions, scores is null ? all.Skip(leads.Count).ToList() : all, top);
    }

    /// <summary>Each lead's reasons from its score and its <paramref name="occlusions"/>' scores.</summary>
    private static List<LeadExplanation> Reasons(IReadOnlyList<Lead> leads, IReadOnlyList<LeadScore> scores, Occlusions occlusions,
        IReadOnlyList<LeadScore> occludedScores, int top)
    {
        var results = new List<LeadExplanation>(leads.Count);
        int part = 0;
        for (int i = 0; i < leads.Count; i++)
        {
            var full = scores[i];
            var reasons = new List<ScoreReason>();
            for (; part < occlusions.Parts.Count && occlusions.Parts[part].Lead == i; part++)
            {
                var (_, kind, name, value) = occlusions.Parts[part];
                reasons.Add(new ScoreReason(kind, name, value, Logistic.LogOdds(full.Probability) - Logistic.LogOdds(occludedScores[part].Probability)));
            }
            results.Add(new LeadExplanation(full,
                reasons.Where(r => r.Contribution > Negligible).OrderByDescending(r => r.Contribution).Take(top).ToList(),
                reasons.Where(r => r.Contribution < -Negligible).OrderBy(r => r.Contribution).Take(top).ToList()));
        }
        return results;
    }

    /// <summary>The dialogue's sentences (split after . ! ? or at line breaks), the spans occlusion leaves out.</summary>
    public static IReadOnlyList<string> Spans(string? dialogue) => string.IsNullOrWhiteSpace(dialogue)
        ? []
        : SentenceBreak().Split(dialogue).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();

    [GeneratedRegex(@"(?<=[.!?])\s+|\r?\n+")]
    private static partial Regex SentenceBreak();
}
