using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine rollback</c>: Serve the previous promoted version (or --to ID) again.</summary>
internal static class RollbackCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("rollback", "Serve the previous promoted version (or --to ID) again.", Run,
        Text("home", "versions folder", required: true), Text("to", "version id"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string home = a.Required("home");
        string? to = a.Optional("to");
        var versions = ModelVersions.Open(home);
        string from = versions.Current;
        var target = versions.Rollback(to);
        Console.WriteLine($"current version: {target.Id} (was {from}); restart serve --home {home} to serve it");
        return 0;
    }
}
