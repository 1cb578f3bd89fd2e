using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;
using System.CommandLine;
using System.Text.Json;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.TrainingArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine objective</c>: BCE, HPRO and LM losses of a golden-format batch and the L2 norm of the gradient of every trainable tensor.</summary>
internal static class ObjectiveCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("objective", "BCE, HPRO and LM losses of a golden-format batch and the L2 norm of the gradient of every trainable tensor.", Run,
        Text("model", "model folder", required: true), Text("adapter", "adapter file or folder", required: true), Text("batch", "golden.json", required: true),
            Switch("recompute", "recompute activations in the backward pass"), Switch("json", "JSON output"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = a.Required("model");
        string adapterPath = a.Required("adapter");
        string batchPath = a.Required("batch");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        bool recompute = a.Flag("recompute");
        bool json = a.Flag("json");
        var golden = GoldenBatchFile.Read(batchPath);
        using var device = ComputeDevice.Open(kind);
        using var model = QwenModel.Load(modelDir, device);
        var (adapter, heads) = LoadAdapter(adapterPath, model, golden.LoraAlpha);
        using (adapter)
        using (heads)
        {
            if (adapter.Rank != golden.LoraRank)
                throw new ArgumentException($"{adapterPath}: LoRA rank {adapter.Rank} but {batchPath} says rank {golden.LoraRank}");
            var loss = new LeadObjective(golden.Weights).Evaluate(model, adapter, heads, golden.Batch, backward: true, recompute);
            var norms = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var set in new[] { adapter.Parameters, heads.Parameters })
                foreach (var entry in set.Entries)
                    norms[entry.Name] = Math.Sqrt(set.ReadGradient(entry).Sum(g => (double)g * g));
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    loss = new { bce = loss.Bce, hpro = loss.Hpro, lm = loss.Lm, total = loss.Total },
                    grad_norm = norms,
                }));
            }
            else
            {
                Console.WriteLine($"loss  bce {loss.Bce:F6}  hpro {loss.Hpro:F6}  lm {loss.Lm:F6}  total {loss.Total:F6}");
                foreach (var (name, norm) in norms) Console.WriteLine($"  |d {name}| = {norm:G6}");
            }
        }
        return 0;
    }

    /// <summary>A checkpoint folder, or a .safetensors file holding LoRA tensors and heads.</summary>
    private static (LoraAdapter, ScoreHeads) LoadAdapter(string path, QwenModel model, float? alpha)
    {
        if (Directory.Exists(path)) return AdapterCheckpoint.Load(path, model);
        bool hasConfig = File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, AdapterCheckpoint.ConfigFile));
        var adapter = LoraAdapter.Load(path, model.Config, model.Device, hasConfig ? null : alpha);
        try
        {
            return (adapter, ScoreHeads.Load(path, model.Config, model.Device));
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }
}
