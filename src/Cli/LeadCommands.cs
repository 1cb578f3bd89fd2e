using LeadEngine.Engine.Leads;
using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary>Commands over lead data.</summary>
internal static class LeadCommands
{
    public static int GenerateLeads(CliArgs a)
    {
        string path = a.Required("out");
        int count = a.Int("count", 20000), seed = a.Int("seed", 1);
        a.RejectUnknown();
        SyntheticLeads.WriteCsv(path, count, seed);
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, requireOutcome: true);
        int positives = data.Leads.Count(l => l.Converted == 1);
        Console.WriteLine($"wrote {count} leads to {path}: {positives} converted ({100.0 * positives / count:F2}%)");
        return 0;
    }

    public static int Prompt(CliArgs a)
    {
        string path = a.Required("data");
        string? id = a.Optional("lead");
        string? funnelPath = a.Optional("funnel");
        int budget = a.Int("budget", 2000);
        string? modelDir = a.Optional("model");
        a.RejectUnknown();
        var funnel = funnelPath is null ? FunnelConfig.Automotive : FunnelConfig.Load(funnelPath);
        var data = LeadDataReader.Read(path, funnel, requireOutcome: false);
        var lead = id is null ? data.Leads.FirstOrDefault() : data.Leads.FirstOrDefault(l => l.Id == id);
        if (lead is null) throw new ArgumentException(id is null ? $"{path}: no leads" : $"{path}: no lead '{id}'");
        var builder = new PromptBuilder(Paths.Tokenizer(modelDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!), new PromptOptions { TokenBudget = budget });
        var prompt = builder.Build(lead);
        Console.Write(prompt.Text);
        Console.Error.WriteLine($"[{prompt.Ids.Length} tokens{(prompt.DialogueTruncated ? ", dialogue truncated" : "")}; answer tokens Yes={builder.YesTokenId} No={builder.NoTokenId}]");
        return 0;
    }
}
