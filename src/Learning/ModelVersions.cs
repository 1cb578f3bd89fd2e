using System.Text.Json;
using System.Text.Json.Serialization;
using LeadEngine.Engine;

namespace LeadEngine.Learning;

/// <summary>One adapter version in a <see cref="ModelVersions"/> home.</summary>
/// <param name="Id">v0001, v0002, …</param>
/// <param name="Parent">The version it was warm-started from.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="Status">promoted (it served, or serves now) or rejected (it never served).</param>
/// <param name="TrainedUntil">The latest outcome time it was trained on (outcomes after it are new to it).</param>
/// <param name="Note">Why it was promoted or rejected, with the numbers.</param>
public sealed record ModelVersion(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("parent")] string? Parent,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trained_until")] DateTimeOffset TrainedUntil,
    [property: JsonPropertyName("note")] string Note);

/// <summary>
/// Every adapter version a deployment has had, kept under one home folder: <c>versions/ID/</c> holds
/// each adapter folder, <c>registry.json</c> lists them and names the current one (written
/// atomically). Versions are never deleted; rollback only moves the current pointer.
/// </summary>
public sealed class ModelVersions
{
    private sealed record Registry(
        [property: JsonPropertyName("current")] string Current,
        [property: JsonPropertyName("versions")] List<ModelVersion> Versions);

    private Registry _registry;

    private ModelVersions(string home, Registry registry)
    {
        Home = home;
        _registry = registry;
    }

    /// <summary>The home folder.</summary>
    public string Home { get; }

    /// <summary>The version that serves.</summary>
    public string Current => _registry.Current;

    /// <summary>Every version, oldest first.</summary>
    public IReadOnlyList<ModelVersion> Versions => _registry.Versions;

    /// <summary>The adapter folder of <paramref name="id"/>.</summary>
    public string Directory(string id) => Path.Combine(Home, "versions", id);

    /// <summary>The current version's record.</summary>
    public ModelVersion CurrentVersion => Versions.Single(v => v.Id == Current);

    private static string RegistryPath(string home) => Path.Combine(home, "registry.json");

    /// <summary>True when <paramref name="home"/> holds a registry.</summary>
    public static bool Exists(string home) => File.Exists(RegistryPath(home));

    /// <summary>Opens the versions in <paramref name="home"/>.</summary>
    public static ModelVersions Open(string home)
    {
        if (!Exists(home)) throw new FileNotFoundException($"{home}: no registry.json (start one with: leadengine update --home {home} --adapter DIR)");
        var registry = JsonFile.Read<Registry>(RegistryPath(home), "version registry");
        if (!registry.Versions.Any(v => v.Id == registry.Current)) throw new InvalidDataException($"{RegistryPath(home)}: current version '{registry.Current}' is not listed");
        return new ModelVersions(home, registry);
    }

    /// <summary>Starts a home with <paramref name="adapterDir"/> (copied) as its first, current version.</summary>
    public static ModelVersions Create(string home, string adapterDir, DateTimeOffset trainedUntil)
    {
        if (Exists(home)) throw new InvalidOperationException($"{home}: a version registry exists already");
        var versions = new ModelVersions(home, new Registry("v0001", []));
        CopyAdapter(adapterDir, versions.Directory("v0001"));
        versions._registry = new Registry("v0001", [new ModelVersion("v0001", null, DateTimeOffset.UtcNow, "promoted", trainedUntil, $"imported from {Path.GetFullPath(adapterDir)}")]);
        versions.Save();
        return versions;
    }

    /// <summary>The id the next version gets.</summary>
    public string NextId() => $"v{Versions.Count + 1:D4}";

    /// <summary>Records a version whose adapter is already in <see cref="Directory"/>; a promoted one becomes current.</summary>
    public void Add(ModelVersion version)
    {
        if (Versions.Any(v => v.Id == version.Id)) throw new InvalidOperationException($"version {version.Id} exists already");
        if (!File.Exists(Path.Combine(Directory(version.Id), "adapter_model.safetensors"))) throw new FileNotFoundException($"{Directory(version.Id)}: no adapter");
        _registry = new Registry(version.Status == "promoted" ? version.Id : Current, [.. Versions, version]);
        Save();
    }

    /// <summary>
    /// Makes <paramref name="to"/> current, or without it the promoted version that was current before
    /// the current one. A rejected version never serves.
    /// </summary>
    public ModelVersion Rollback(string? to = null)
    {
        ModelVersion target;
        if (to is not null)
        {
            target = Versions.SingleOrDefault(v => v.Id == to) ?? throw new ArgumentException($"no version '{to}' (have {string.Join(", ", Versions.Select(v => v.Id))})");
            if (target.Status != "promoted") throw new ArgumentException($"version {to} was {target.Status}; only promoted versions serve");
        }
        else
        {
            int index = Versions.ToList().FindIndex(v => v.Id == Current);
            target = Versions.Take(index).LastOrDefault(v => v.Status == "promoted")
                ?? throw new InvalidOperationException($"{Current} is the first promoted version: nothing to roll back to");
        }
        _registry = _registry with { Current = target.Id };
        Save();
        return target;
    }

    private void Save() => AtomicFile.WriteAllText(RegistryPath(Home), JsonSerializer.Serialize(_registry, new JsonSerializerOptions { WriteIndented = true }));

    private static void CopyAdapter(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (string file in System.IO.Directory.GetFiles(from).Where(f => Path.GetExtension(f) is ".safetensors" or ".json"))
            AtomicFile.WriteAllBytes(Path.Combine(to, Path.GetFileName(file)), File.ReadAllBytes(file));
    }
}
