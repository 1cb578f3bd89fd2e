using System.Text.Json;
using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Training;

/// <summary>
/// A training checkpoint folder a PEFT user can load: <c>adapter_model.safetensors</c> (LoRA tensors
/// with PEFT names, plus the heads as <c>score.pointwise.*</c>, <c>score.pairwise.*</c>),
/// <c>adapter_config.json</c> (r, lora_alpha, target_modules) and, for resuming,
/// <c>optimizer.safetensors</c> (AdamW moments and step).
/// </summary>
public static class AdapterCheckpoint
{
    /// <summary>Adapter and heads file name.</summary>
    public const string AdapterFile = "adapter_model.safetensors";
    /// <summary>PEFT config file name.</summary>
    public const string ConfigFile = "adapter_config.json";
    /// <summary>Optimizer state file name.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>Writes the checkpoint into <paramref name="directory"/> (created).</summary>
    public static void Save(string directory, LoraAdapter adapter, ScoreHeads heads, AdamW? optimizer = null, string? baseModel = null)
    {
        Directory.CreateDirectory(directory);
        var tensors = new List<TensorData>();
        foreach (var set in new[] { adapter.Parameters, heads.Parameters })
            foreach (var entry in set.Entries)
                tensors.Add(TensorData.FromFloats(entry.Name, entry.Shape, set.ReadValue(entry)));
        SafeTensorWriter.Write(Path.Combine(directory, AdapterFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var config = new Dictionary<string, object?>
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = adapter.Rank,
            ["lora_alpha"] = adapter.Alpha,
            ["lora_dropout"] = 0.0,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["target_modules"] = adapter.Targets.Select(LoraAdapter.ShortName).ToArray(),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        optimizer?.Save(Path.Combine(directory, OptimizerFile));
    }

    /// <summary>The base model folder recorded in a checkpoint's adapter_config.json, or null when it names none.</summary>
    public static string? BaseModel(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) return null;
        var config = JsonFile.Read<JsonElement>(path, "adapter config");
        return config.ValueKind == JsonValueKind.Object && config.TryGetProperty("base_model_name_or_path", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;
    }

    /// <summary>Loads the adapter and heads of a checkpoint folder (alpha from its adapter_config.json).</summary>
    public static (LoraAdapter Adapter, ScoreHeads Heads) Load(string directory, QwenModel model)
    {
        string file = Path.Combine(directory, AdapterFile);
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no {AdapterFile} (not a LeadEngine/PEFT adapter folder)");
        var adapter = LoraAdapter.Load(file, model.Config, model.Device);
        try
        {
            return (adapter, ScoreHeads.Load(file, model.Config, model.Device));
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }
}
