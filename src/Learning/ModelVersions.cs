using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.LeadScoring;

namespace LeadEngine.Learning;

/// <summary>
/// The store's model history (<see cref="ModelHistory"/>) as one host uses it: versions and their files live in the
/// store, so every host on it serves, updates and rolls back one history; each host unpacks the versions it loads into
/// a local folder, <c>CACHE/ID-HASH/</c>, checked against the version's content hash. Versions are never deleted;
/// a rollback only records which version is in force.
/// </summary>
public sealed class ModelVersions
{
    private ModelVersions(FeedbackStore store, string cacheDir, ModelHistory history)
    {
        Store = store;
        CacheDir = cacheDir;
        History = history;
    }

    /// <summary>Where the history is kept.</summary>
    public FeedbackStore Store { get; }

    /// <summary>This host's folder of unpacked versions.</summary>
    public string CacheDir { get; }

    /// <summary>The history as read when opened.</summary>
    public ModelHistory History { get; }

    /// <summary>The version in force.</summary>
    public string Current => History.Current!.VersionId;

    /// <summary>Every version, oldest first.</summary>
    public IReadOnlyList<ModelVersion> Versions => History.Versions;

    /// <summary>The record of the version in force.</summary>
    public ModelVersion CurrentVersion => Version(Current);

    /// <summary>The record of <paramref name="id"/>.</summary>
    public ModelVersion Version(string id) => Versions.SingleOrDefault(v => v.Id == id)
        ?? throw new ArgumentException($"no version '{id}' (have {string.Join(", ", Versions.Select(v => v.Id))})");

    /// <summary>The name recorded for this machine in the versions and promotions it makes.</summary>
    public static string ThisHost => Environment.MachineName;

    /// <summary>
    /// The local folder of unpacked versions when none is named: beside a SQLite store, else in this user's local
    /// application data (a PostgreSQL store has no folder of its own).
    /// </summary>
    public static string DefaultCacheDir(string db) => FeedbackStore.IsPostgres(db)
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "leadengine", "versions")
        : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(db))!, "versions");

    /// <summary>Opens the history of <paramref name="store"/>; a store without one throws, saying how to start it.</summary>
    public static async Task<ModelVersions> OpenAsync(FeedbackStore store, string cacheDir, CancellationToken cancel = default)
    {
        var history = await store.ModelHistoryAsync(cancel);
        if (history.Current is null)
            throw new InvalidOperationException($"{store.Description}: no model history yet; start one with: leadengine update --db DB --adapter DIR (DIR becomes v0001)");
        return new ModelVersions(store, cacheDir, history);
    }

    /// <summary>True when <paramref name="store"/> has a model history.</summary>
    public static async Task<bool> ExistsAsync(FeedbackStore store, CancellationToken cancel = default) => await store.CurrentModelAsync(cancel) is not null;

    /// <summary>Starts the history of <paramref name="store"/> with the adapter in <paramref name="adapterDir"/> as v0001, in force.</summary>
    public static async Task<ModelVersions> ImportAsync(FeedbackStore store, string cacheDir, string adapterDir, CancellationToken cancel = default)
    {
        if (await ExistsAsync(store, cancel)) throw new InvalidOperationException($"{store.Description}: a model history exists already");
        var empty = new ModelVersions(store, cacheDir, new ModelHistory([], []));
        await empty.AddAsync("v0001", null, DateTimeOffset.UtcNow, ModelVersion.Promoted, null, $"imported from {Path.GetFullPath(adapterDir)}", adapterDir,
            "import", cancel);
        return await OpenAsync(store, cacheDir, cancel);
    }

    /// <summary>The id the next version gets.</summary>
    public string NextId() => $"v{Versions.Count + 1:D4}";

    /// <summary>A new, empty folder in the cache to train a candidate into (<see cref="AddAsync"/> moves it into place).</summary>
    public string NewStagingDirectory() => Directory.CreateDirectory(Path.Combine(CacheDir, $".staging-{Guid.NewGuid():N}")).FullName;

    /// <summary>
    /// The folder of <paramref name="id"/>, unpacked from the store the first time and checked against its content hash
    /// every time (a folder that does not match is unpacked again).
    /// </summary>
    public async Task<string> DirectoryAsync(string id, CancellationToken cancel = default)
    {
        var version = Version(id);
        string dir = Path.Combine(CacheDir, $"{id}-{version.ContentHash[..12]}");
        if (Directory.Exists(dir) && ModelFile.HashOf(ReadFiles(dir)) == version.ContentHash) return dir;
        var files = await Store.ModelFilesAsync(id, cancel);
        if (ModelFile.HashOf(files) != version.ContentHash)
            throw new InvalidDataException($"{Store.Description}: the files of model version {id} do not match its content hash {version.ContentHash}");
        // Unpacked beside it and moved into place, so another process on this machine never loads half a folder.
        string staging = NewStagingDirectory();
        foreach (var file in files) WriteFile(staging, file);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        try
        {
            Directory.Move(staging, dir);
        }
        catch (IOException) when (Directory.Exists(dir))
        {
            Directory.Delete(staging, recursive: true); // another process unpacked it first
        }
        return dir;
    }

    /// <summary>
    /// Stores the adapter in <paramref name="filesDir"/> as version <paramref name="id"/>; a promoted one is in force
    /// from then on if the version in force is still <paramref name="parent"/> (else it is stored as rejected, saying
    /// why: <see cref="FeedbackStore.AddModelVersionAsync"/>). A staging folder is moved into the cache.
    /// </summary>
    public async Task<ModelVersion> AddAsync(string id, string? parent, DateTimeOffset createdAt, string status, DateTimeOffset? trainedUntil, string note,
        string filesDir, string action, CancellationToken cancel = default)
    {
        var files = ReadFiles(filesDir);
        if (!files.Any(f => f.Name == "adapter_model.safetensors")) throw new FileNotFoundException($"{filesDir}: no adapter_model.safetensors");
        var version = new ModelVersion(id, parent, createdAt, status, trainedUntil, note, ModelFile.HashOf(files), ThisHost);
        var stored = await Store.AddModelVersionAsync(version, files, action, cancel);
        if (Path.GetFileName(filesDir).StartsWith(".staging-", StringComparison.Ordinal))
        {
            string dir = Path.Combine(CacheDir, $"{id}-{version.ContentHash[..12]}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.Move(filesDir, dir);
        }
        return stored;
    }

    /// <summary>
    /// Puts <paramref name="to"/> in force, or without it the promoted version before the one in force (by id), for
    /// every host on the store. A rejected version never serves. Decided on the history as it is at that moment.
    /// </summary>
    public async Task<ModelPromotion> RollbackAsync(string? to, string reason, CancellationToken cancel = default) =>
        await Store.ChangeModelAsync(history =>
        {
            var versions = history.Versions;
            string current = history.Current!.VersionId;
            ModelVersion target;
            if (to is not null)
            {
                target = versions.SingleOrDefault(v => v.Id == to) ?? throw new ArgumentException($"no version '{to}' (have {string.Join(", ", versions.Select(v => v.Id))})");
                if (target.Status != ModelVersion.Promoted) throw new ArgumentException($"version {to} was {target.Status}; only promoted versions serve");
            }
            else
            {
                int index = versions.ToList().FindIndex(v => v.Id == current);
                target = versions.Take(index).LastOrDefault(v => v.Status == ModelVersion.Promoted)
                    ?? throw new InvalidOperationException($"{current} is the first promoted version: nothing to roll back to");
            }
            return (target.Id, $"{reason} (was {current})");
        }, "rollback", ThisHost, DateTimeOffset.UtcNow, cancel);

    /// <summary>
    /// The files of an adapter folder that make a version, named by their path inside it with '/': weights, settings
    /// and the tree models in their subfolders; not a store or a cache of versions kept beside them.
    /// </summary>
    private static List<ModelFile> ReadFiles(string dir) =>
        new[] { dir, Path.Combine(dir, LeadScorer.StackerDirectory), Path.Combine(dir, LeadScorer.TreesDirectory) }
        .Where(Directory.Exists)
        .SelectMany(Directory.GetFiles)
        .Where(f => Path.GetExtension(f) is ".safetensors" or ".json" or ".zip")
        .Select(f => new ModelFile(Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes(f))).ToList();

    /// <summary>Writes <paramref name="file"/> under <paramref name="dir"/>, refusing a name that would leave it.</summary>
    private static void WriteFile(string dir, ModelFile file)
    {
        string path = Path.GetFullPath(Path.Combine(dir, file.Name));
        if (!path.StartsWith(Path.GetFullPath(dir) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"model file '{file.Name}' would be written outside {dir}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, file.Content);
    }
}
