using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine prompt</c>: The prompt of a lead and its token count.</summary>
internal static class PromptCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("prompt", "The prompt of a lead and its token count.", Run,
        [Text("data", "the lead file", required: true), Text("lead", "lead id (default: the first)"), Int("budget", "token budget (default 2000)"), Model(), .. Mapping()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string path = a.Required("data");
        string? id = a.Optional("lead");
        int budget = a.Int("budget", 2000);
        string? modelDir = a.Optional("model");
        var data = LeadDataReader.Read(path, Funnel(a), requireOutcome: false);
        var lead = id is null ? data.Leads.FirstOrDefault() : data.Leads.FirstOrDefault(l => l.Id == id);
        if (lead is null) throw new ArgumentException(id is null ? $"{path}: no leads" : $"{path}: no lead '{id}'");
        var builder = new PromptBuilder(QwenTokenizer.ForModel(modelDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!), new PromptOptions { TokenBudget = budget });
        var prompt = builder.Build(lead);
        Console.Write(builder.Text(prompt));
        Console.Error.WriteLine($"[{prompt.Ids.Length} tokens{(prompt.DialogueTruncated ? ", dialogue truncated" : "")}; answer tokens Yes={builder.YesTokenId} No={builder.NoTokenId}]");
        return 0;
    }
}
