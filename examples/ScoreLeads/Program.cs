using LeadEngine.LeadScoring;

// A minimal host: load a trained adapter folder and score a lead file with the probability, score and
// grade that `leadengine score` writes.
//   dotnet run --project examples/ScoreLeads -- ADAPTER_DIR LEADS_FILE
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: ScoreLeads ADAPTER_DIR LEADS_FILE (CSV or JSON lines; the adapter's column mapping applies)");
    return 2;
}
using var scorer = LeadScorer.Open(args[0]);
var leads = scorer.ReadLeads(args[1]);
var scores = scorer.ScoreBatch(leads.Leads);
Console.WriteLine($"model version {scorer.ModelVersion}: scored {scores.Count} leads from {args[1]}");
foreach (var s in scores.OrderByDescending(s => s.Probability).Take(5))
    Console.WriteLine($"{s.LeadId}\tprobability {s.Probability:F3}\tscore {s.Score}\tgrade {s.Grade}");
return 0;
