using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine versions</c>: Every version in the store's model history, which one is in force, why each was promoted or rejected, and every change.</summary>
internal static class VersionsCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("versions", "Every version in the store's model history, which one is in force, why each was promoted or rejected, and every change.", Run,
        HistoryOptions());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var (db, cacheDir) = HistoryStore(a);
        return RunAsync(db, cacheDir).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string db, string cacheDir)
    {
        await using var store = await OpenExistingAsync(db);
        var versions = await ModelVersions.OpenAsync(store, cacheDir);
        foreach (var v in versions.Versions)
            Console.WriteLine($"{(v.Id == versions.Current ? "*" : " ")} {v.Id}  {v.Status,-8}  from {v.Parent ?? "-",-5}  {v.CreatedAt:yyyy-MM-dd HH:mm}  {v.Host}  {v.ContentHash[..12]}  {v.Note}");
        Console.WriteLine("changes:");
        foreach (var p in versions.History.Promotions)
            Console.WriteLine($"  {p.At:yyyy-MM-dd HH:mm:ss}  {p.Action,-8}  {p.VersionId}  on {p.Host}: {p.Reason}");
        return 0;
    }
}
