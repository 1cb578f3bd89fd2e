using LeadEngine.Feedback;
using LeadEngine.Learning;
using LeadEngine.Training;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary>What the service commands share.</summary>
internal static class ServeArgs
{
    /// <summary>The model an adapter folder was trained on, for commands whose --model is optional.</summary>
    internal static string BaseModel(string adapterDir) => AdapterCheckpoint.BaseModel(adapterDir)
        ?? throw new UsageException($"{adapterDir}: adapter_config.json names no base model; pass --model");

    /// <summary>The options that name a store with a model history.</summary>
    internal static Option[] HistoryOptions() =>
    [
        Text("db", "SQLite path or PostgreSQL connection string of the store that keeps the model history"),
        Text("home", "a folder: HOME/feedback.db is the store (unless --db), HOME/versions holds the versions this host unpacks"),
    ];

    /// <summary>The store named by --db or --home, and where this host unpacks versions.</summary>
    internal static (string Db, string CacheDir) HistoryStore(CliArgs a)
    {
        string? home = a.Optional("home");
        string db = a.Optional("db") ?? (home is null ? throw new UsageException("name the store: --db DB or --home DIR") : Path.Combine(home, "feedback.db"));
        return (db, CacheDir(db, home));
    }

    /// <summary>Where this host unpacks the versions of store <paramref name="db"/>: HOME/versions, else the default (<see cref="ModelVersions.DefaultCacheDir"/>).</summary>
    internal static string CacheDir(string db, string? home) => home is null ? ModelVersions.DefaultCacheDir(db) : Path.Combine(home, "versions");

    /// <summary>
    /// For a store without a model history: how to start one, naming the adapter that served when <paramref name="home"/> is
    /// a version folder from before histories were kept in the store (its registry.json names the version in force).
    /// </summary>
    internal static string StartHistoryHint(string db, string? home)
    {
        string registry = home is null ? "" : Path.Combine(home, "registry.json");
        if (home is null || !File.Exists(registry)) return $"start one with: leadengine update --db {db} --adapter DIR (DIR becomes v0001)";
        string? current = null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(registry));
            current = json.RootElement.GetProperty("current").GetString();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // named below without the version
        }
        string adapter = Path.Combine(home, "versions", current ?? "vNNNN");
        return $"{registry} is a version folder from a LeadEngine that kept versions per host; the store keeps them now: " +
            $"leadengine update --home {home} --adapter {adapter} imports the version that served as v0001";
    }

    /// <summary>Opens an existing store: a missing one is an error, never a new empty one (the history and outcomes are in it).</summary>
    /// <summary>The <c>--timezone</c> flag (an IANA name, default UTC); one this machine does not know is a usage error.</summary>
    internal static TimeZoneInfo TimeZone(CliArgs a)
    {
        string zone = a.Optional("timezone", "UTC")!;
        return TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var timeZone) ? timeZone
            : throw new UsageException($"--timezone '{zone}' is not a time zone this machine knows (an IANA name such as Europe/Lisbon)");
    }

    internal static async Task<FeedbackStore> OpenExistingAsync(string db)
    {
        if (!FeedbackStore.Exists(db))
            throw new FileNotFoundException($"{db}: no feedback store there (serve --db {db} --create-db starts one)");
        return await FeedbackStore.OpenAsync(db, create: false);
    }

    /// <summary>How recently a host must have checked the history to be listed as serving.</summary>
    private static readonly TimeSpan RecentHost = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What each host on <paramref name="store"/> serves, from their heartbeats, beside the version in force: what
    /// <c>update</c> and <c>rollback</c> print instead of assuming that every host serves it.
    /// </summary>
    internal static async Task PrintHostsAsync(FeedbackStore store, string inForce)
    {
        var now = DateTimeOffset.UtcNow;
        var beats = await store.HeartbeatsAsync(now - RecentHost);
        Console.WriteLine($"version in force: {inForce}; {beats.Count} host{(beats.Count == 1 ? "" : "s")} on {store.Description} checked its model history in the last {RecentHost.TotalMinutes:g} minutes");
        foreach (var beat in beats)
            Console.WriteLine($"  {beat.HostId}: serves {beat.VersionId ?? "an adapter outside the history"} (model {beat.ModelVersion}), " +
                $"checked {Math.Max(0, (now - beat.SeenAt).TotalSeconds):F0} s ago{(beat.VersionId == inForce ? "" : $"; serves {inForce} after its next check")}");
    }
}
