using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Engine;

/// <summary>
/// Folders of the repository (or an install of it) that the CLI and the benchmarks share: found by
/// walking up from the working directory, then from the executable.
/// </summary>
public static class RepositoryPaths
{
    /// <summary>The first <paramref name="relative"/> path above the working directory or the executable, or null.</summary>
    public static string? Find(string relative)
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>The bundled reference model, tests/fixtures/tiny-qwen2-gqa-tied.</summary>
    /// <exception cref="DirectoryNotFoundException">Not run from the repository.</exception>
    public static string DefaultModel() =>
        Find(Path.Combine("tests", "fixtures", "tiny-qwen2-gqa-tied")) ??
        throw new DirectoryNotFoundException("built-in model tests/fixtures/tiny-qwen2-gqa-tied not found: run from the repository");

    /// <summary>
    /// <paramref name="value"/> itself (a model folder), or for the name of a <see cref="QwenConfig.Presets"/>
    /// shape a bf16 model with seeded random weights in weights/random/NAME, written on first use
    /// (saying so on standard error).
    /// </summary>
    public static string ModelOrPreset(string value)
    {
        if (!QwenConfig.Presets.TryGetValue(value, out var preset) || Directory.Exists(value)) return value;
        string dir = Path.Combine(Find("weights") ?? "weights", "random", value.ToLowerInvariant());
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
        {
            Console.Error.WriteLine($"writing {value} with random bf16 weights to {dir}");
            SyntheticModel.Write(dir, preset, TensorDType.BF16, seed: 1);
        }
        return dir;
    }
}
