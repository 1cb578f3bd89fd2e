using LeadEngine.Evaluation;
using LeadEngine.LeadScoring;

namespace LeadEngine.Cli;

/// <summary>What the commands that read lead files share: the funnel, the column mapping, the model folder and the adapter's record.</summary>
internal static class LeadFileArgs
{
    internal static FunnelConfig Funnel(CliArgs a, LeadSchema? schema = null) =>
        a.Optional("funnel") is { } path ? FunnelConfig.Load(path) : LeadSchema.FunnelOf(schema);

    /// <summary>
    /// The column mapping: <c>--columns FILE.json</c>, else the adapter's (when scoring with one), else
    /// our names; then each <c>--X-column NAME</c> flag (<c>none</c>: the file has no such column) and <c>--drop a,b</c>.
    /// </summary>
    internal static LeadColumns Columns(CliArgs a, LeadSchema? schema = null)
    {
        var columns = a.Optional("columns") is { } file ? LeadColumns.Load(file) : schema?.Columns ?? LeadColumns.Standard;
        string? Flag(string name, string? current) => a.Optional(name) is { } v ? (v == "none" ? null : v) : current;
        return columns with
        {
            Id = Flag("id-column", columns.Id),
            CreatedAt = Flag("time-column", columns.CreatedAt),
            Label = Flag("label-column", columns.Label),
            Stage = Flag("stage-column", columns.Stage),
            CallSeconds = Flag("call-seconds-column", columns.CallSeconds),
            Dialogue = Flag("dialogue-column", columns.Dialogue),
            Drop = [.. columns.Drop, .. (a.Optional("drop") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        };
    }

    /// <summary>The model folder: <c>--model</c>, else the adapter's base model, else the built-in default (written once).</summary>
    internal static string ModelDir(CliArgs a, string? adapterDir = null) =>
        a.Optional("model") ?? (adapterDir is not null ? LeadScorer.ModelFor(adapterDir) : BuiltInModel.EnsureModel());

    internal static void PrintNotes(LeadDataSet data)
    {
        foreach (string note in data.Notes) Console.WriteLine($"  note: {note}");
        if (data.Skipped.Count > 0) Console.WriteLine($"  {data.Skipped.Count} bad rows skipped; the first: {data.Skipped[0].Message}");
    }

    /// <summary>
    /// What scoring with an adapter needs besides it: the model it was trained on, its funnel and its column
    /// mapping (from its schema; flags override), so <c>score</c> and <c>eval</c> need only <c>--adapter</c>.
    /// </summary>
    internal static (string ModelDir, FunnelConfig Funnel, LeadColumns Columns) FromAdapter(CliArgs a, string adapterDir)
    {
        if (!Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"{adapterDir}: adapter folder not found");
        var schema = LeadSchema.Load(adapterDir); // null for adapters older than schemas
        return (ModelDir(a, adapterDir), Funnel(a, schema), Columns(a, schema));
    }

    /// <summary>The eval row name of an adapter: LeadEngine and the model its probability comes from.</summary>
    /// <summary>An adapter's scores for the eval table: its row name and whether HPRO trained its pairwise head (unknown for old folders: yes).</summary>
    internal static AdapterScores Adapter(string adapterDir, IReadOnlyList<LeadScore> scores, string label = "LeadEngine") =>
        new(AdapterRowName(adapterDir, label), scores, TrainingRecord.Load(adapterDir)?.PairwiseHeadTrained ?? true);

    internal static string AdapterRowName(string adapterDir, string label = "LeadEngine") => TrainingRecord.Load(adapterDir)?.Scorer switch
    {
        TrainingRecord.BlendScorer => $"{label} (default: stacked + LightGBM blend)",
        TrainingRecord.StackedScorer => $"{label} (default: stacked)",
        TrainingRecord.TreesScorer => $"{label} (default: LightGBM alone)",
        _ => $"{label} (LLM heads)",
    };
}
