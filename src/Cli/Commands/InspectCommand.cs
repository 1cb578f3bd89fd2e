using LeadEngine.Cli;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine inspect</c>: Config, tensors, dtypes, parameters and memory of a model.</summary>
internal static class InspectCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("inspect", "Config, tensors, dtypes, parameters and memory of a model.", Run,
        Text("model", "model folder", required: true));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string modelDir = a.Required("model");
        var c = QwenConfig.Load(modelDir);
        using var store = SafeTensorStore.Open(modelDir);
        var (dtype, parameters) = QwenModel.CheckTensors(store, c);
        var tensors = store.Tensors.ToList();
        Console.WriteLine($"model            {Path.GetFullPath(modelDir)}");
        Console.WriteLine($"architecture     Qwen2: hidden {c.HiddenSize}, layers {c.Layers}, heads {c.Heads}, kv heads {c.KvHeads} ({(c.Heads == c.KvHeads ? "MHA" : "GQA")}), head dim {c.HeadDim}");
        Console.WriteLine($"                 intermediate {c.IntermediateSize}, vocab {c.VocabSize}, rope theta {c.RopeTheta}, rms eps {c.RmsNormEps}, tied embeddings {c.TieWordEmbeddings.ToString().ToLowerInvariant()}, torch_dtype {c.TorchDtype ?? "-"}");
        Console.WriteLine($"files            {store.Files.Count} ({string.Join(", ", store.Files.Select(f => Path.GetFileName(f.Path)))})");
        Console.WriteLine($"tensors          {tensors.Count} ({string.Join(", ", tensors.GroupBy(t => t.DType).Select(g => $"{g.Count()} {g.Key.Name()}"))})");
        Console.WriteLine($"parameters       {parameters:N0}");
        Console.WriteLine($"device weights   {Bytes(parameters * dtype.Size())} as {dtype.Name()}{(tensors.Select(t => t.DType).Distinct().Count() > 1 ? " (mixed dtypes widened to F32)" : " (read as stored)")}");
        long perToken = 4L * (4L * c.HiddenSize + 2L * c.Heads * c.HeadDim + 2L * c.KvHeads * c.HeadDim + 3L * c.IntermediateSize);
        Console.WriteLine($"activations      {Bytes(perToken)} per token in flight (fp32), e.g. {Bytes(perToken * 8 * 2000)} for 8 x 2,000 tokens");
        return 0;
    }

    private static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{n / 1024.0:F1} KiB",
        _ => $"{n} B",
    };
}
