using LeadEngine.Cli;
using LeadEngine.Engine;
using System.CommandLine;
using System.Text.Json;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine tokenize</c>: Qwen token ids (the model's tokenizer files, else weights/qwen-tokenizer).</summary>
internal static class TokenizeCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("tokenize", "Qwen token ids (the model's tokenizer files, else weights/qwen-tokenizer).", Run,
        Text("model", "model folder", required: true), Text("text", "text", required: true), Switch("json", "JSON output"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = a.Required("model");
        string text = a.Required("text");
        bool json = a.Flag("json");
        var ids = QwenTokenizer.ForModel(modelDir).Encode(text);
        Console.WriteLine(json ? JsonSerializer.Serialize(ids) : string.Join(' ', ids));
        return 0;
    }
}
