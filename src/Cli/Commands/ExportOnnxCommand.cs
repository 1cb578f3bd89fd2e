using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Training;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine export-onnx</c>: The scorer as a standard ONNX graph (adapter merged; weights in FILE.onnx.data) for ONNX Runtime.</summary>
internal static class ExportOnnxCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("export-onnx", "The scorer as a standard ONNX graph (adapter merged; weights in FILE.onnx.data) for ONNX Runtime.", Run,
        Text("model", "model folder", required: true), Text("out", "FILE.onnx", required: true), Text("adapter", "adapter folder"), Int("max-seq", "default 2048"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = RepositoryPaths.ModelOrPreset(a.Required("model")), outPath = a.Required("out");
        string? adapterDir = a.Optional("adapter");
        int maxSeq = a.Int("max-seq", 2048);
        var prompts = new LeadScoring.PromptBuilder(QwenTokenizer.ForModel(modelDir));
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        var (adapter, heads) = ExportArgs.LoadAdapter(modelDir, adapterDir, device);
        using (adapter)
        using (heads)
        {
            var clock = Stopwatch.StartNew();
            Engine.Onnx.OnnxExport.Write(outPath, modelDir, [prompts.YesTokenId, prompts.NoTokenId], adapter, heads, maxSeq);
            Console.WriteLine($"wrote {outPath} and {outPath}.data in {clock.Elapsed.TotalSeconds:F1} s: inputs input_ids [batch, seq] int64 (right-padded), " +
                $"lengths [batch] int64; outputs answer_logits [batch, 2] (Yes, No){(heads is null ? "" : ", scores [batch, 2] (pointwise, pairwise)")}");
        }
        return 0;
    }
}
