using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine score</c>: Score a lead file with an adapter; model, column mapping and funnel come from the adapter folder.</summary>
internal static class ScoreCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("score", "Score a lead file with an adapter; model, column mapping and funnel come from the adapter folder.", Run,
        [Text("adapter", "the adapter folder", required: true), Text("data", "the lead file", required: true),
            Text("out", "scores.csv to write", required: true), Model(), .. Mapping(),
            Switch("explain", "add reasons_up / reasons_down: the top 5 columns and dialogue sentences each way, by occlusion"),
            Text("shard", "I/N: score only the leads of shard I of N (by a hash of the lead id), for N workers; merge-scores joins their files"),
            SkipBadRows(), Device(), PrecisionOption()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string adapterDir = a.Required("adapter"), data = a.Required("data"), outPath = a.Required("out");
        var (modelDir, funnel, columns) = FromAdapter(a, adapterDir);
        bool skip = a.Flag("skip-bad-rows"), explain = a.Flag("explain");
        var leads = LeadDataReader.Read(data, funnel, requireOutcome: false, skip, columns);
        if (a.Optional("shard") is { } shardText)
        {
            var (index, count) = LeadShard.Parse(shardText);
            leads = leads with { Leads = leads.Leads.Where(l => LeadShard.Of(l.Id, count) == index).ToList() };
        }
        using var device = OpenDevice(a);
        device.ScoringOnly = true;
        using var scorer = LeadScorer.Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device);
        var clock = Stopwatch.StartNew();
        int done = 0;
        ConsoleProgress.Run(progress => AtomicFile.WriteText(outPath, writer =>
        {
            writer.WriteLine("lead_id,probability,ranking_score,score,grade,p_yes" + (explain ? ",reasons_up,reasons_down" : ""));
            foreach (var chunk in leads.Leads.Chunk(scorer.BatchSize * 4))
            {
                var explained = explain ? scorer.Explain(chunk) : null;
                var scores = explained?.Select(e => e.Score).ToList() ?? scorer.ScoreBatch(chunk);
                for (int i = 0; i < scores.Count; i++)
                {
                    var s = scores[i];
                    string reasons = explained is null ? "" : $",{CsvField(Reasons(explained[i].Positive))},{CsvField(Reasons(explained[i].Negative))}";
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.LeadId},{s.Probability:G6},{s.RankingScore:G6},{s.Score},{s.Grade},{s.YesProbability:G6}{reasons}"));
                }
                int before = done;
                done += chunk.Length;
                progress.Count("scored", "leads", done, before, leads.Leads.Count, clock.Elapsed.TotalSeconds);
            }
        }), onError: true);
        Console.WriteLine($"wrote {done} scores to {outPath} ({done / clock.Elapsed.TotalSeconds:F1} leads/s; {leads.Skipped.Count} bad rows skipped)");
        return 0;
    }

    /// <summary>Reasons as one field: <c>channel=referral +0.41; "Asked about financing." +0.22</c> (contributions in log-odds).</summary>
    private static string Reasons(IReadOnlyList<ScoreReason> reasons) => string.Join("; ", reasons.Select(r =>
        string.Create(CultureInfo.InvariantCulture, $"{(r.Kind == ScoreExplanations.FeatureKind ? $"{r.Name}={r.Value}" : $"\"{r.Name}\"")} {r.Contribution:+0.000;-0.000}")));

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    private static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
