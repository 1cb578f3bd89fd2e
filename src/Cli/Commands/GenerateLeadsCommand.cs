using LeadEngine.LeadScoring;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine generate-leads</c>: A synthetic automotive funnel data set (see SyntheticLeads).</summary>
internal static class GenerateLeadsCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("generate-leads", "A synthetic automotive funnel data set (see SyntheticLeads).", Run,
        Text("out", "FILE.csv", required: true), Int("count", "default 20000"), Int("seed", "default 1"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string path = a.Required("out");
        int count = a.Int("count", 20000), seed = a.Int("seed", 1);
        SyntheticLeads.WriteCsv(path, count, seed);
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, requireOutcome: true);
        int positives = data.Leads.Count(l => l.Converted == 1);
        Console.WriteLine($"wrote {count} leads to {path}: {positives} converted ({100.0 * positives / count:F2}%)");
        return 0;
    }
}
