using System.Text.Json;
using System.Text.Json.Serialization;
using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// A sales funnel: ordered stages, the stages that mean lost, which stage is the key action, the
/// long-call threshold and a margin per HPRO tier. Loaded from JSON so a new funnel needs no code.
/// </summary>
public sealed record FunnelConfig
{
    /// <summary>Funnel name.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "funnel";
    /// <summary>Stages in order, earliest first; the last is the conversion.</summary>
    [JsonPropertyName("stages")] public required string[] Stages { get; init; }
    /// <summary>Stages that mean the lead was lost.</summary>
    [JsonPropertyName("lost_stages")] public required string[] LostStages { get; init; }
    /// <summary>The stage whose reaching is the key action (e.g. test_drive).</summary>
    [JsonPropertyName("key_action_stage")] public required string KeyActionStage { get; init; }
    /// <summary>Calls at least this long count as long (soft signal tier).</summary>
    [JsonPropertyName("long_call_seconds")] public double LongCallSeconds { get; init; } = 120;
    /// <summary>Margins: global dominance, key action, soft signal.</summary>
    [JsonPropertyName("tier_margins")] public float[] TierMargins { get; init; } = [1.0f, 0.5f, 0.2f];

    /// <summary>
    /// The one default: the funnel used wherever neither the adapter's schema nor the user names one (reading
    /// leads to score, the service's requests, the store, training without <c>--funnel</c>).
    /// </summary>
    public static FunnelConfig Default => Automotive;

    /// <summary>The automotive funnel of the paper: lead → telemarketing → store visit → test drive → order; lost.</summary>
    public static FunnelConfig Automotive { get; } = new()
    {
        Name = "automotive",
        Stages = ["lead", "telemarketing", "store_visit", "test_drive", "order"],
        LostStages = ["lost"],
        KeyActionStage = "test_drive",
    };

    /// <summary>Reads and validates a funnel JSON file.</summary>
    public static FunnelConfig Load(string path)
    {
        var config = JsonFile.Read<FunnelConfig>(path, "funnel configuration");
        config.Validate(path);
        return config;
    }

    /// <summary>True for a funnel or lost stage.</summary>
    public bool IsKnownStage(string stage) => Stages.Contains(stage) || LostStages.Contains(stage);

    /// <summary>Checks stages are distinct, the key action is a stage and there are three non-negative margins.</summary>
    public void Validate(string source)
    {
        if (Stages.Length < 2) throw new InvalidDataException($"{source}: a funnel needs at least two stages");
        var all = Stages.Concat(LostStages).ToList();
        var duplicate = all.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{source}: stage '{duplicate.Key}' listed twice");
        if (!Stages.Contains(KeyActionStage)) throw new InvalidDataException($"{source}: key_action_stage '{KeyActionStage}' is not one of the stages");
        if (TierMargins.Length != 3 || TierMargins.Any(m => m < 0))
            throw new InvalidDataException($"{source}: tier_margins must be three non-negative numbers (global, key action, soft signal)");
    }
}
