using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine rollback</c>: Put the previous promoted version (or --to ID) back in force, for every host on the store.</summary>
internal static class RollbackCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("rollback", "Put the previous promoted version (or --to ID) back in force; each host on the store serves it at its next check.", Run,
        [.. HistoryOptions(), Text("to", "version id"), Text("reason", "why, for the history (default: rolled back by hand)")]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var (db, cacheDir) = HistoryStore(a);
        return RunAsync(db, cacheDir, a.Optional("to"), a.Optional("reason", "rolled back by hand")!).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string db, string cacheDir, string? to, string reason)
    {
        await using var store = await OpenExistingAsync(db);
        var versions = await ModelVersions.OpenAsync(store, cacheDir);
        var change = await versions.RollbackAsync(to, reason);
        Console.WriteLine($"rolled back: {change.Reason}");
        await PrintHostsAsync(store, change.VersionId);
        return 0;
    }
}
