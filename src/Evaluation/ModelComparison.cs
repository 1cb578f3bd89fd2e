using LeadEngine.LeadScoring;

namespace LeadEngine.Evaluation;

/// <summary>The eval table: the adapters' scores beside the baselines, on the same test leads.</summary>
public static class ModelComparison
{
    /// <summary>
    /// The eval report over <paramref name="test"/>: each adapter ranked and calibrated by the
    /// probability users get (<see cref="LeadScore.Probability"/>), with its pairwise head's ranking (when HPRO trained it) and,
    /// when trees take part, its heads' own probability as extra rows; Funnel+Recency; LightGBM on the
    /// columns and the dialogue; Funnel+CTR (the stage, then that LightGBM's probability); and LightGBM
    /// LambdaRank on the funnel's grades, all trained on <paramref name="train"/>.
    /// </summary>
    public static EvaluationResult Evaluate(IReadOnlyList<AdapterScores> adapters, IReadOnlyList<Lead> train, IReadOnlyList<Lead> test, FunnelConfig funnel,
        string reportDir, RankingWindows windows)
    {
        var labels = test.Select(l => l.Converted!.Value).ToArray();
        var models = new List<ScoredModel>();
        foreach (var (name, scores, pairwiseTrained) in adapters)
        {
            var p = scores.Select(s => s.Probability).ToArray();
            models.Add(new ScoredModel(name, p, p));
            if (pairwiseTrained) models.Add(new ScoredModel($"{name}: pairwise head", scores.Select(s => s.RankingScore).ToArray(), null));
            if (scores.Any(s => s.HeadProbability != s.Probability))
            {
                var head = scores.Select(s => s.HeadProbability).ToArray();
                models.Add(new ScoredModel($"{name}: LLM heads alone", head, head));
            }
        }
        models.Add(new ScoredModel("Funnel+Recency", FunnelRecencyBaseline.Score(test, funnel), null));
        var trees = GbdtModel.Train(train, funnel);
        var gbdt = trees.Predict(test);
        models.Add(new ScoredModel(trees.ReadsText ? "LightGBM (columns + dialogue TF-IDF)" : "LightGBM (columns)", gbdt, gbdt));
        models.Add(new ScoredModel("Funnel+CTR (stage, then LightGBM)", FunnelRecencyBaseline.Score(test, funnel, gbdt), null));
        models.Add(new ScoredModel("LightGBM LambdaRank (funnel grades)", GbdtModel.Train(train, funnel, GbdtObjective.LambdaRank).Predict(test), null));
        return EvaluationReport.Write(reportDir, models, labels, windows);
    }
}
