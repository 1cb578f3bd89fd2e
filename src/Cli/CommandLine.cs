using LeadEngine.Kernels;
using System.CommandLine;

namespace LeadEngine.Cli;

/// <summary>
/// The <c>leadengine</c> command line on System.CommandLine: one name per command, typed options with their
/// help, usage errors reported by the parser. A command's body reads its options through <see cref="CliArgs"/>.
/// </summary>
internal static class CommandLine
{
    /// <summary>Every command.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("LeadEngine: a from-scratch Qwen runtime on ILGPU kernels, trained into a lead scorer that keeps learning.");
        foreach (var command in (Command[])[
            DemoCommand.Definition(),
            SelfCheckCommand.Definition(),
            TrainCommand.Definition(),
            ScoreCommand.Definition(),
            MergeScoresCommand.Definition(),
            EvalCommand.Definition(),
            PromptCommand.Definition(),
            GenerateLeadsCommand.Definition(),
            ForwardCommand.Definition(),
            TokenizeCommand.Definition(),
            InspectCommand.Definition(),
            ObjectiveCommand.Definition(),
            TrainBatchesCommand.Definition(),
            GenerateModelCommand.Definition(),
            ProfileCommand.Definition(),
            ExportOnnxCommand.Definition(),
            ExportGgufCommand.Definition(),
            ServeCommand.Definition(),
            LoadTestCommand.Definition(),
            SimulateCommand.Definition(),
            ReplayCommand.Definition(),
            DriftCommand.Definition(),
            UpdateCommand.Definition(),
            VersionsCommand.Definition(),
            RollbackCommand.Definition(),
            KeysCommand.Definition(),
            TimingCommand.Definition(),
        ])
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>A command: its name, help, body and typed options (each command's file declares its own).</summary>
    internal static Command Define(string name, string description, Func<CliArgs, int> run, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(parse => run(new CliArgs(parse, options)));
        return command;
    }

    internal static Option<string> Text(string name, string description, bool required = false) =>
        new("--" + name) { Description = description, Required = required };

    internal static Option<int> Int(string name, string description) => new("--" + name) { Description = description };

    internal static Option<double> Number(string name, string description) => new("--" + name) { Description = description };

    internal static Option<bool> Switch(string name, string description) => new("--" + name) { Description = description };

    internal static Option<string[]> Many(string name, string description, bool required = false) =>
        new("--" + name) { Description = description, Required = required, AllowMultipleArgumentsPerToken = false };

    internal static Option<string> Device() => Text("device", "auto, cpu (SIMD), ilgpu-cpu, cuda or opencl (default auto)");

    /// <summary>The device kind and precision that --device and --precision name.</summary>
    internal static (DeviceKind Kind, Precision Precision) DeviceChoice(CliArgs a) =>
        (ComputeDevice.ParseKind(a.Optional("device", "auto")!), ComputeDevice.ParsePrecision(a.Optional("precision", "f32")!));

    /// <summary>The device that --device and --precision name, opened.</summary>
    internal static ComputeDevice OpenDevice(CliArgs a)
    {
        var (kind, precision) = DeviceChoice(a);
        var device = ComputeDevice.Open(kind, precision: precision);
        WarnIfPrecisionIgnored(device);
        return device;
    }

    /// <summary>Says so on standard error when the device computes in f32 whatever --precision asked (only the SIMD CPU backend has the bf16 and int8 paths).</summary>
    internal static void WarnIfPrecisionIgnored(ComputeDevice device)
    {
        if (device.Precision != Precision.F32 && !device.UsesSimd)
            Console.Error.WriteLine($"--precision {device.Precision.ToString().ToLowerInvariant()}: the {device.Kind} backend computes in f32 " +
                "(bf16 and int8 run on the CPU backend, --device cpu; on CUDA, LEADENGINE_TENSOR_CORES=1 puts the projections on bf16 tensor cores)");
    }

    internal static Option<string> PrecisionOption() =>
        Text("precision", "f32, bf16 or int8 (default f32): the weights' format when scoring; bf16 packs half the memory and, on CPUs with AVX-512 BF16, runs vdpbf16ps; int8 a quarter, quantizes activations per row and runs vpdpbusd (AVX-512 VNNI)");

    internal static Option<string> Model() => Text("model", "model folder (default: the adapter's, else the built-in default)");

    internal static Option<bool> SkipBadRows() => Switch("skip-bad-rows", "skip and count bad rows instead of stopping at the first");

    /// <summary>The column mapping and funnel options of the commands that read lead files.</summary>
    internal static Option[] Mapping() =>
    [
        Text("funnel", "funnel JSON (default: the adapter's, else funnels/automotive.json)"),
        Text("columns", "column mapping JSON: {\"id\", \"created_at\", \"label\", \"stage\", \"call_seconds\", \"dialogue\", \"drop\"}"),
        Text("id-column", "the lead id column (none: use the row number)"), Text("time-column", "the creation time column (none: row order)"),
        Text("label-column", "the converted label column"), Text("stage-column", "the funnel stage column (none: follow the label)"),
        Text("call-seconds-column", "the call length column (an outcome: never a feature)"), Text("dialogue-column", "the dialogue column"),
        Text("drop", "columns to leave out, comma separated"),
    ];
}
