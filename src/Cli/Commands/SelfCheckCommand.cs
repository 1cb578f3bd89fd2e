using LeadEngine.Cli;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Engine;
using LeadEngine.Kernels;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine selfcheck</c>: Forward on the bundled tiny Qwen2 model, checked against its golden outputs.</summary>
internal static class SelfCheckCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("selfcheck", "Forward on the bundled tiny Qwen2 model, checked against its golden outputs.", Run,
        Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        string modelDir = RepositoryPaths.DefaultModel();
        string goldenPath = Path.Combine(modelDir, "golden.json");
        var sequences = LeadEngine.Training.GoldenBatchFile.Read(goldenPath).Batch.Sequences;
        using var golden = JsonDocument.Parse(File.ReadAllBytes(goldenPath));
        var root = golden.RootElement;

        var clock = Stopwatch.StartNew();
        using var device = ComputeDevice.Open(kind);
        using var model = QwenModel.Load(modelDir, device);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var result = model.Forward(sequences);
        double firstMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        const int Repeats = 5;
        for (int i = 0; i < Repeats; i++) model.Forward(sequences);
        double warmMs = clock.Elapsed.TotalMilliseconds / Repeats;

        var expected = root.GetProperty("base").GetProperty("last_logits").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
        double worst = 0;
        for (int b = 0; b < expected.Length; b++)
        {
            double scale = expected[b].Max(Math.Abs);
            for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(expected[b][j] - result.LastLogits[b][j]) / scale);
        }
        Console.WriteLine($"LeadEngine self-check: built-in model {Path.GetFileName(modelDir)} (Qwen2 architecture, {model.ParameterCount:N0} parameters, {model.WeightDType.Name()})");
        Console.WriteLine($"device           {device.Kind} ({device.Accelerator.Name})");
        Console.WriteLine($"batch            {sequences.Length} sequences, lengths {string.Join("/", sequences.Select(s => s.Length))}, padded to {result.SeqLen}");
        Console.WriteLine($"load             {loadMs:F1} ms");
        Console.WriteLine($"first forward    {firstMs:F1} ms (includes compiling {device.CompileMilliseconds:F0} ms of kernels)");
        Console.WriteLine($"warm forward     {warmMs:F1} ms ({sequences.Sum(s => s.Length) / (warmMs / 1000):F0} tokens/s)");
        Console.WriteLine($"vs golden.json   max relative logit error {worst:E2} ({(worst <= 1e-4 ? "PASS" : "FAIL")}, bar 1e-4)");
        for (int b = 0; b < sequences.Length; b++)
        {
            int top = Array.IndexOf(result.LastLogits[b], result.LastLogits[b].Max());
            Console.WriteLine($"  sequence {b}: next token {top} (logit {result.LastLogits[b][top]:F4})");
        }
        return worst <= 1e-4 ? 0 : 1;
    }
}
