using LeadEngine.Cli;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using System.CommandLine;
using System.Text.Json;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine forward</c>: Final-norm hidden state and full logits at each sequence's last token (one right-padded batch).</summary>
internal static class ForwardCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("forward", "Final-norm hidden state and full logits at each sequence's last token (one right-padded batch).", Run,
        Text("model", "model folder", required: true), Many("ids", "token ids, space separated (repeatable: one sequence each)"),
            Many("text", "text to tokenize (repeatable)"), Switch("json", "JSON output"), Device(), PrecisionOption());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = a.Required("model");
        var idTexts = a.All("ids");
        var texts = a.All("text");
        bool json = a.Flag("json");
        if (idTexts.Count + texts.Count == 0) throw new UsageException("forward needs at least one --ids or --text");
        var sequences = idTexts.Select(ParseIds).ToList();
        if (texts.Count > 0)
        {
            var tokenizer = QwenTokenizer.ForModel(modelDir);
            sequences.AddRange(texts.Select(t => tokenizer.Encode(t).ToArray()));
        }
        using var device = OpenDevice(a);
        using var model = QwenModel.Load(modelDir, device);
        var result = model.Forward(sequences);
        if (json)
        {
            using var writer = new Utf8JsonWriter(Console.OpenStandardOutput());
            writer.WriteStartObject();
            WriteRows(writer, "last_hidden", result.LastHidden);
            WriteRows(writer, "last_logits", result.LastLogits);
            writer.WriteEndObject();
            writer.Flush();
            Console.WriteLine();
        }
        else
        {
            for (int b = 0; b < sequences.Count; b++)
            {
                var top = result.LastLogits[b].Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(5);
                Console.WriteLine($"sequence {b} ({sequences[b].Length} tokens): top logits " +
                    string.Join(", ", top.Select(p => $"{p.i}:{p.v:F4}")));
            }
        }
        return 0;
    }

    private static int[] ParseIds(string text)
    {
        var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out ids[i])) throw new UsageException($"--ids: '{parts[i]}' is not an integer token id");
        if (ids.Length == 0) throw new UsageException("--ids is empty");
        return ids;
    }

    private static void WriteRows(Utf8JsonWriter writer, string name, float[][] rows)
    {
        writer.WriteStartArray(name);
        foreach (var row in rows)
        {
            writer.WriteStartArray();
            foreach (float v in row) writer.WriteNumberValue(v);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }
}
