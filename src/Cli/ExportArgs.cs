using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary>What the export commands share.</summary>
internal static class ExportArgs
{
    /// <summary>The adapter and score heads of <paramref name="adapterDir"/> on <paramref name="device"/> (none without one), checked against the model.</summary>
    internal static (LoraAdapter? Adapter, ScoreHeads? Heads) LoadAdapter(string modelDir, string? adapterDir, ComputeDevice device)
    {
        if (adapterDir is null) return (null, null);
        using var model = QwenModel.Load(modelDir, device);
        return AdapterCheckpoint.Load(adapterDir, model);
    }
}
