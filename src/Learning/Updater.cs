using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;
using LeadEngine.Training;
using System.Globalization;

namespace LeadEngine.Learning;

/// <summary>
/// One update of the served model from the outcomes in the feedback store:
/// <list type="number">
/// <item>each lead's best outcome (by tier) becomes a training example (its funnel stage, <see cref="Rewards.AsTrainingLead"/>);
/// the latest <see cref="UpdateOptions.HoldoutFraction"/> of them by time are held out;</item>
/// <item>a candidate is warm-started from the current version and trained on the outcomes newer than
/// the current version's training plus a replay sample of older ones, the way the current version was trained (its
/// loss weights and column mapping; when train chose it by comparing heads, blend and trees, by the same comparison);</item>
/// <item>it is promoted only if it is not worse than the current version on the temporal hold-out (AUC
/// and Brier within the tolerance) and, once enough call lists have settled, in off-policy evaluation:
/// the doubly robust reward per list of each model's greedy list over the logged candidate sets, and
/// the 95% interval of the difference must reach above −tolerance.</item>
/// </list>
/// Rejected candidates are kept as versions too. Everything lives in the store's model history, so every host on
/// the store serves the version in force.
/// </summary>
public static class Updater
{
    /// <summary>
    /// Runs one update on the model history of <paramref name="store"/>, holding its update lock (one update at a time
    /// across every host on the store): with the lock taken elsewhere, or a version made within
    /// <see cref="UpdateOptions.NotWithin"/>, it makes no candidate and says why.
    /// </summary>
    /// <param name="store">The outcomes to learn from and the history the candidate joins.</param>
    /// <param name="cacheDir">This host's folder of unpacked versions (<see cref="ModelVersions.CacheDir"/>).</param>
    /// <param name="modelDir">The base model.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="device">Where training and the comparison run.</param>
    /// <param name="options">Update settings.</param>
    /// <param name="now">The time of the update (outcomes settle by it).</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="cancel">Stops the update; nothing is stored.</param>
    public static async Task<UpdateResult> RunAsync(FeedbackStore store, string cacheDir, string modelDir, QwenTokenizer tokenizer, ComputeDevice device,
        UpdateOptions options, DateTimeOffset now, Action<string>? log = null, CancellationToken cancel = default)
    {
        await using var updating = await store.TryLockUpdatesAsync(cancel);
        if (updating is null) return NoCandidate("another update is running on this store (on this host or another)");
        var versions = await ModelVersions.OpenAsync(store, cacheDir, cancel);
        var latest = versions.Versions.MaxBy(v => v.CreatedAt)!;
        if (options.NotWithin is { } within && now - latest.CreatedAt < within)
            return NoCandidate($"{latest.Id} was made {(now - latest.CreatedAt).TotalHours:F1} h ago on {latest.Host}; updates here are at least {within.TotalHours:F1} h apart");
        var current = versions.CurrentVersion;
        string currentDir = await versions.DirectoryAsync(current.Id, cancel);
        var funnel = LeadSchema.FunnelOf(LeadSchema.Load(currentDir));
        var events = await store.EventsAsync(cancel);
        var stored = await store.LeadSnapshotsAsync(events.Select(e => e.LeadId), cancel);
        var examples = new List<(Lead Lead, OutcomeKind Kind, DateTimeOffset At)>();
        foreach (var group in events.GroupBy(e => e.LeadId, StringComparer.Ordinal))
        {
            var best = group.OrderByDescending(e => Rewards.Tier(e.Kind)).ThenByDescending(e => e.At).First();
            if (!stored.TryGetValue(group.Key, out var record)) continue;
            double? seconds = group.Max(e => e.CallSeconds);
            examples.Add((Rewards.AsTrainingLead(StoredLead.FromJson(record.Fields), best.Kind, seconds, funnel), best.Kind, group.Max(e => e.At)));
        }
        examples.Sort((a, b) => a.At.CompareTo(b.At));
        int holdoutCount = examples.Count < 5 ? 0 : (int)Math.Ceiling(options.HoldoutFraction * examples.Count);
        var holdout = examples.Skip(examples.Count - holdoutCount).ToList();
        var trainable = examples.Take(examples.Count - holdoutCount).ToList();
        var trainedUntil = current.TrainedUntil ?? DateTimeOffset.MinValue;
        var fresh = trainable.Where(e => e.At > trainedUntil).ToList();
        var older = trainable.Where(e => e.At <= trainedUntil).ToArray();
        if (fresh.Count == 0 || holdout.Count == 0)
            return NoCandidate(fresh.Count == 0 ? "no outcomes newer than the current version's training" : "too few outcomes for a hold-out (need 5)",
                fresh.Count, holdout.Count);
        new Random(options.Seed).Shuffle(older);
        var replay = older.Take((int)Math.Round(options.ReplayRatio * fresh.Count)).ToList();

        // The candidate is trained the way the current version was: its loss weights and column mapping, and when train chose
        // its model by comparing heads, blend and trees, the same comparison (warm-started), so it can be any of the three.
        var trainedAs = TrainingRecord.Load(currentDir);
        var training = fresh.Concat(replay).Select(e => e.Lead).ToList();
        var trainingOptions = BuiltInModel.TrainingOptions(options.Epochs, trainedAs is null ? null : new LossWeights(trainedAs.LossWeights[0], trainedAs.LossWeights[1], trainedAs.LossWeights[2])) with
        {
            LearningRate = options.LearningRate,
            Seed = options.Seed,
            BatchSize = Math.Min(16, training.Count),
        };
        bool compare = trainedAs is { Validation.Length: > 0 };
        if (compare && training.Count < 10 * trainingOptions.Folds)
            return NoCandidate($"{current.Id} was chosen by comparing models on {trainingOptions.Folds} time folds, which needs {10 * trainingOptions.Folds} training outcomes; " +
                $"{training.Count} so far", fresh.Count, holdout.Count);
        var columns = LeadSchema.Load(currentDir)?.Columns;
        string id = versions.NextId();
        string candidateDir = versions.NewStagingDirectory();
        try
        {
            log?.Invoke($"training candidate {id} from {current.Id} ({(compare ? "heads, blend or trees, compared as train does" : "LoRA and heads")}) on {fresh.Count} new outcomes " +
                $"and {replay.Count} replayed; {holdout.Count} held out");
            if (compare) LeadPipeline.TrainAndSelect(modelDir, tokenizer, device, training, funnel, trainingOptions, candidateDir, log, columns: columns, warmStart: currentDir);
            else LeadPipeline.TrainAndCalibrate(modelDir, tokenizer, device, training, funnel, trainingOptions, candidateDir, warmStart: currentDir, columns: columns);

            using var currentScorer = LeadScorer.Load(modelDir, currentDir, tokenizer, device: device);
            using var candidateScorer = LeadScorer.Load(modelDir, candidateDir, tokenizer, device: device);
            var holdoutLeads = holdout.Select(h => h.Lead).ToList();
            var labels = holdout.Select(h => h.Kind == OutcomeKind.Converted ? 1 : 0).ToList();
            var engaged = holdout.Select(h => Rewards.Tier(h.Kind) >= Rewards.Tier(OutcomeKind.Responded) ? 1 : 0).ToList();
            var aucLabels = labels.Distinct().Count() == 2 ? labels : engaged;
            HoldoutMetrics Metrics(LeadScorer scorer)
            {
                var p = scorer.ScoreBatch(holdoutLeads).Select(s => s.Probability).ToList();
                return new HoldoutMetrics(LeadMetrics.RocAuc(p, aucLabels), LeadMetrics.Brier(p, labels));
            }
            var before = Metrics(currentScorer);
            var after = Metrics(candidateScorer);

            var (difference, lists, unsupported) = await OffPolicyDifferenceAsync(store, events, currentScorer, candidateScorer, options, now, cancel);

            var (promote, reason) = Decide(before, after, holdout.Count, difference, lists, options, unsupported);
            var added = await versions.AddAsync(id, current.Id, now, promote ? ModelVersion.Promoted : ModelVersion.Rejected, trainable.Max(e => e.At), reason,
                candidateDir, "promote", cancel);
            return new UpdateResult(id, added.Status == ModelVersion.Promoted, added.Note, fresh.Count, replay.Count, holdout.Count, before, after, difference, lists,
                unsupported);
        }
        finally
        {
            // A candidate that was stored has moved into the cache; one that failed leaves nothing behind.
            if (Directory.Exists(candidateDir)) Directory.Delete(candidateDir, recursive: true);
        }
    }

    private static UpdateResult NoCandidate(string reason, int fresh = 0, int holdout = 0) => new(null, false, reason, fresh, 0, holdout, null, null, null, 0);

    /// <summary>The most of where the two models' lists differ that may lie beyond what the logs can weigh before off-policy evaluation cannot tell.</summary>
    public const double MaxUnsupportedShare = 0.5;

    /// <summary>
    /// The promotion gate: not worse on the hold-out (AUC at least the current's minus the tolerance,
    /// Brier at most the current's plus it; a hold-out that cannot rank, all positive or all negative, cannot tell and refuses) and, when off-policy evaluation ran, a doubly robust difference
    /// (<see cref="OffPolicy.DoublyRobust"/>, bounded where the logs cannot weigh) whose 95% interval reaches above −tolerance, on logs that can weigh at least
    /// half of where the two models' lists differ: where they cannot, the interval cannot tell, and the gate refuses.
    /// Returns the decision and its reason with the numbers.
    /// </summary>
    public static (bool Promote, string Reason) Decide(HoldoutMetrics current, HoldoutMetrics candidate, int holdout, PolicyEstimate? difference, int lists,
        UpdateOptions options, double unsupportedShare = 0)
    {
        var c = CultureInfo.InvariantCulture;
        // A hold-out with no positives or no negatives cannot rank: its AUC is NaN, and that is "cannot tell", never "not worse".
        bool canRank = !double.IsNaN(current.Auc) && !double.IsNaN(candidate.Auc) && !double.IsNaN(current.Brier) && !double.IsNaN(candidate.Brier);
        bool holdoutOk = canRank && candidate.Auc >= current.Auc - options.Tolerance && candidate.Brier <= current.Brier + options.Tolerance;
        var reasons = new List<string>
        {
            string.Create(c, $"hold-out ({holdout} leads): AUC {current.Auc:F4} → {candidate.Auc:F4}, Brier {current.Brier:F4} → {candidate.Brier:F4} " +
                $"({(!canRank ? "cannot tell: the hold-out has no positives or no negatives to rank" : holdoutOk ? "not worse" : "worse")})"),
        };
        bool canTell = unsupportedShare <= MaxUnsupportedShare;
        bool offPolicyOk = difference is null || difference.High >= -options.Tolerance && canTell;
        reasons.Add(difference is null ? $"off-policy: {lists} call lists with settled outcomes and logged candidates, {options.MinimumLists} needed: not used"
            : string.Create(c, $"off-policy ({lists} lists): reward per list, candidate − current {difference.Value:+0.000;-0.000} " +
                $"[{difference.Low:F3}, {difference.High:F3}], {unsupportedShare:P0} of where the lists differ beyond what the logs can weigh " +
                $"({(!canTell ? "cannot tell" : offPolicyOk ? "not worse" : "worse")})"));
        bool promote = holdoutOk && offPolicyOk;
        return (promote, (promote ? "promoted: " : "rejected: ") + string.Join("; ", reasons));
    }

    /// <summary>
    /// The doubly robust estimate (<see cref="OffPolicy.DoublyRobust"/>) of the reward per logged call list of the candidate's greedy
    /// list minus the current's, over each list's logged candidates (reward model: the current's probability), with the
    /// share the logs cannot weigh. Only lists whose every recommendation has settled count.
    /// </summary>
    private static async Task<(PolicyEstimate? Difference, int Lists, double UnsupportedShare)> OffPolicyDifferenceAsync(FeedbackStore store,
        IReadOnlyList<OutcomeEvent> events, LeadScorer current, LeadScorer candidate, UpdateOptions options, DateTimeOffset now, CancellationToken cancel)
    {
        var recommendations = await store.RecommendationsAsync(cancel);
        var settled = RewardJoin.Join(recommendations, events, now, options.AttributionWindow);
        var settledByList = settled.GroupBy(j => j.Recommendation.ListId).ToDictionary(g => g.Key, g => g.ToList());
        var listed = recommendations.GroupBy(r => r.ListId).Where(g => settledByList.TryGetValue(g.Key, out var s) && s.Count == g.Count()).Select(g => g.Key).ToList();
        // A lead sits in many lists' candidate sets: read it and score it with each model once.
        var leads = new Dictionary<string, Lead?>(StringComparer.Ordinal);
        var probabilities = new Dictionary<(LeadScorer, string), double>();
        IReadOnlyList<double> Probabilities(LeadScorer scorer, IReadOnlyList<Lead> list)
        {
            var unscored = list.Where(l => !probabilities.ContainsKey((scorer, l.Id))).ToList();
            foreach (var s in scorer.ScoreBatch(unscored)) probabilities[(scorer, s.LeadId)] = s.Probability;
            return list.Select(l => probabilities[(scorer, l.Id)]).ToList();
        }
        var logged = new List<LoggedList>();
        foreach (string listId in listed)
        {
            var candidates = await store.ListCandidatesAsync(listId, cancel);
            if (candidates.Count == 0) continue; // logged before candidate sets were kept
            var unread = candidates.Select(c => c.LeadId).Where(id => !leads.ContainsKey(id)).ToList();
            var snapshots = await store.LeadSnapshotsAsync(unread, cancel);
            foreach (string id in unread) leads[id] = snapshots.TryGetValue(id, out var snapshot) ? StoredLead.FromJson(snapshot.Fields) : null;
            if (candidates.Any(c => leads[c.LeadId] is null)) continue;
            var listLeads = candidates.Select(c => leads[c.LeadId]!).ToList();
            var index = candidates.Select((c, i) => (c.LeadId, i)).ToDictionary(x => x.LeadId, x => x.i, StringComparer.Ordinal);
            var rewards = settledByList[listId].Where(j => index.ContainsKey(j.Recommendation.LeadId)).ToDictionary(j => index[j.Recommendation.LeadId], j => j.Reward);
            int k = settledByList[listId].Count;
            double[] Greedy(IReadOnlyList<double> p) => new GreedyPolicy().Choose(new CandidateSet(p), k, Random.Shared).Inclusion;
            var currentP = Probabilities(current, listLeads);
            var target = Greedy(Probabilities(candidate, listLeads)).Zip(Greedy(currentP), (a, b) => a - b).ToArray();
            logged.Add(LoggedList.Of(candidates.Select(c => c.Propensity).ToList(), target, rewards.Keys.ToList(), i => rewards[i], currentP));
        }
        if (logged.Count < options.MinimumLists) return (null, logged.Count, 0);
        return (OffPolicy.DoublyRobust(logged), logged.Count, OffPolicy.UnsupportedShare(logged));
    }
}
