using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary>
/// <c>leadengine merge-scores</c>: joins the files of <c>score --shard I/N</c> into the one file an unsharded <c>score</c> writes: the
/// same header and rows, in the lead file's order. Every lead must be in exactly one part.
/// </summary>
internal static class MergeScoresCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("merge-scores", "Join the files of score --shard I/N into the file an unsharded score writes (the lead file's order).", Run,
        [Text("adapter", "the adapter folder the shards scored with (for its column mapping)", required: true), Text("data", "the lead file the shards read", required: true),
            Many("part", "a shard's scores file (repeatable: one per shard)", required: true), Text("out", "scores.csv to write", required: true), .. Mapping(), SkipBadRows()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string adapterDir = a.Required("adapter"), data = a.Required("data"), outPath = a.Required("out");
        var (_, funnel, columns) = FromAdapter(a, adapterDir);
        var order = LeadDataReader.Read(data, funnel, requireOutcome: false, a.Flag("skip-bad-rows"), columns).Leads.Select(l => l.Id).ToList();
        string? header = null;
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in a.All("part"))
        {
            var lines = File.ReadAllLines(part);
            if (lines.Length == 0) throw new InvalidDataException($"{part}: empty; a shard's file has a header line at least");
            if (header is not null && lines[0] != header)
                throw new InvalidDataException($"{part}:1: header '{lines[0]}' differs from the first part's '{header}' (scored with other options?)");
            header = lines[0];
            for (int i = 1; i < lines.Length; i++)
            {
                string id = lines[i].Split(',', 2)[0];
                if (!rows.TryAdd(id, lines[i])) throw new InvalidDataException($"{part}:{i + 1}: lead '{id}' is in another part too");
            }
        }
        var missing = order.Where(id => !rows.ContainsKey(id)).Take(3).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{data}: lead '{missing[0]}' is in no part ({order.Count(id => !rows.ContainsKey(id))} missing): is a shard's file left out?");
        if (rows.Count != order.Count) throw new InvalidDataException($"the parts hold {rows.Count - order.Count} leads that {data} does not");
        AtomicFile.WriteText(outPath, writer =>
        {
            writer.WriteLine(header);
            foreach (string id in order) writer.WriteLine(rows[id]);
        });
        Console.WriteLine($"merged {a.All("part").Count} parts: {order.Count} scores to {outPath}");
        return 0;
    }
}
