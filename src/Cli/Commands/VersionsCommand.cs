using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine versions</c>: Every version, which one serves, and why each was promoted or rejected.</summary>
internal static class VersionsCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("versions", "Every version, which one serves, and why each was promoted or rejected.", Run,
        Text("home", "versions folder", required: true));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string home = a.Required("home");
        var versions = ModelVersions.Open(home);
        foreach (var v in versions.Versions)
            Console.WriteLine($"{(v.Id == versions.Current ? "*" : " ")} {v.Id}  {v.Status,-8}  from {v.Parent ?? "-",-5}  {v.CreatedAt:yyyy-MM-dd HH:mm}  {v.Note}");
        return 0;
    }
}
