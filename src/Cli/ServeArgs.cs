using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary>What the service commands share.</summary>
internal static class ServeArgs
{
    /// <summary>The model an adapter folder was trained on, for commands whose --model is optional.</summary>
    internal static string BaseModel(string adapterDir) => AdapterCheckpoint.BaseModel(adapterDir)
        ?? throw new UsageException($"{adapterDir}: adapter_config.json names no base model; pass --model");
}
