using System.Diagnostics;
using System.Text.Json;
using LeadEngine.Cli;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

var parse = LeadEngine.Cli.CommandLine.Build().Parse(args);
// Usage errors (unknown command or option, a missing or mistyped value) exit 2 with the parser's words and
// where the help is; --help itself is the parser's generated help, exit 0.
string command = parse.CommandResult.Command.Name;
string helpHint = parse.CommandResult.Command is System.CommandLine.RootCommand ? "leadengine --help" : $"leadengine {command} --help";
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"leadengine: {error.Message}");
    Console.Error.WriteLine($"usage: {helpHint}");
    return 2;
}
try
{
    return parse.Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UsageException e)
{
    Console.Error.WriteLine($"leadengine: {e.Message}");
    Console.Error.WriteLine($"usage: {helpHint}");
    return 2;
}
catch (Exception e) when (e is LeadEngine.LeadScoring.LeadDataException or LeadEngine.Feedback.FeedbackStoreException or SafeTensorsException or ModelConfigException or ArgumentException or FileNotFoundException
    or DirectoryNotFoundException or InvalidDataException or InvalidOperationException or JsonException or IOException)
{
    Console.Error.WriteLine($"leadengine: error: {e.Message}");
    return 1;
}
