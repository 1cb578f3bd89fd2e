using LeadEngine.Cli;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine generate-model</c>: A Qwen2-architecture model with seeded random weights.</summary>
internal static class GenerateModelCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("generate-model", "A Qwen2-architecture model with seeded random weights.", Run,
        Text("out", "model folder", required: true), Int("hidden", "default 64"), Int("layers", "default 2"), Int("heads", "default 4"),
            Int("kv-heads", "default 2"), Int("intermediate", "default 176"), Int("vocab", "default 512"), Text("dtype", "bf16, f16 or f32 (default bf16)"),
            Switch("tied", "tie the embeddings and the LM head"), Int("seed", "default 1"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string outDir = a.Required("out");
        var config = new QwenConfig
        {
            HiddenSize = a.Int("hidden", 64), Layers = a.Int("layers", 2), Heads = a.Int("heads", 4), KvHeads = a.Int("kv-heads", 2),
            IntermediateSize = a.Int("intermediate", 176), VocabSize = a.Int("vocab", 512), TieWordEmbeddings = a.Flag("tied"),
            RopeTheta = 1e6,
        };
        var dtype = a.Optional("dtype", "bf16") switch
        {
            "bf16" => TensorDType.BF16,
            "f16" => TensorDType.F16,
            "f32" => TensorDType.F32,
            var other => throw new UsageException($"--dtype must be bf16, f16 or f32, got '{other}'"),
        };
        int seed = a.Int("seed", 1);
        SyntheticModel.Write(outDir, config, dtype, seed);
        Console.WriteLine($"wrote {outDir}");
        return 0;
    }
}
