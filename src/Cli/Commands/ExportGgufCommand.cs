using LeadEngine.Engine;
using LeadEngine.Engine.Gguf;
using LeadEngine.Kernels;
using LeadEngine.Training;
using System.CommandLine;
using System.Diagnostics;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine export-gguf</c>: The model (adapter merged) as a GGUF v3 file llama.cpp loads as qwen2, in f32, bf16 or q8_0.</summary>
internal static class ExportGgufCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("export-gguf", "The model (adapter merged) as a GGUF v3 file llama.cpp loads as qwen2, in f32, bf16 or q8_0.", Run,
        Text("model", "model folder", required: true), Text("out", "FILE.gguf", required: true), Text("adapter", "adapter folder (LoRA merged into the weights)"),
        Text("type", "f32, bf16 or q8_0 for the 2-D weights (default f32)"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = RepositoryPaths.ModelOrPreset(a.Required("model")), outPath = a.Required("out");
        string typeName = a.Optional("type", "f32")!;
        var type = GgufExport.ParseType(typeName) ?? throw new UsageException($"--type {typeName}: f32, bf16 or q8_0");
        var tokenizer = QwenTokenizerFiles.Read(QwenTokenizer.DirectoryForModel(modelDir));
        string? adapterDir = a.Optional("adapter");
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        var (adapter, heads) = ExportArgs.LoadAdapter(modelDir, adapterDir, device);
        using (adapter)
        using (heads)
        {
            var clock = Stopwatch.StartNew();
            GgufExport.Write(outPath, modelDir, tokenizer, type, adapter);
            Console.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1e6:F1} MB, {typeName}) in {clock.Elapsed.TotalSeconds:F1} s" +
                (adapter is null ? "" : "; the LoRA adapter is merged, the score heads are not part of a GGUF model"));
        }
        return 0;
    }
}
