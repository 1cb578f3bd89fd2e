using LeadEngine.Feedback;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary>
/// <c>leadengine keys add|list|revoke</c>: the service's API keys, kept in the feedback store as SHA-256 hashes (so every
/// host on the database knows them); <c>serve --require-keys</c> asks for them.
/// </summary>
internal static class KeysCommand
{
    /// <summary>The command and its three actions.</summary>
    public static Command Definition()
    {
        var keys = new Command("keys", "API keys of the service (serve --require-keys): add, list, revoke; kept hashed in the feedback store.");
        keys.Subcommands.Add(Define("add", "A new key with its scopes; printed once, on the last line (the store keeps its hash only).", Add,
            Db(), Text("name", "who holds the key (unique)", required: true),
            Text("scopes", $"comma separated: {string.Join(", ", ApiScopes.All)} (admin: everything)", required: true),
            Switch("create-db", "create the SQLite store when it does not exist")));
        keys.Subcommands.Add(Define("list", "Every key: name, scopes, created, revoked (never the key).", List, Db()));
        keys.Subcommands.Add(Define("revoke", "Revoke a key by name: every host refuses it within its key cache time (5 s).", Revoke,
            Db(), Text("name", "the key's name", required: true)));
        return keys;
    }

    private static Option<string> Db() => Text("db", "the feedback store: SQLite path or PostgreSQL connection string", required: true);

    private static int Add(CliArgs a)
    {
        string[] scopes;
        try { scopes = ApiScopes.Parse(a.Required("scopes")); }
        catch (ArgumentException e) { throw new UsageException($"--scopes: {e.Message}"); }
        return WithStore(a, a.Flag("create-db"), async store =>
        {
            string key = await store.AddKeyAsync(a.Required("name"), scopes);
            Console.WriteLine($"key '{a.Required("name")}' with scopes {string.Join(", ", scopes)}; shown once, store it now:");
            Console.WriteLine(key);
            return 0;
        });
    }

    private static int List(CliArgs a) => WithStore(a, create: false, async store =>
    {
        foreach (var key in await store.KeysAsync())
            Console.WriteLine($"{key.Name,-24} {string.Join(",", key.Scopes),-32} created {key.CreatedAt:yyyy-MM-dd HH:mm}  {(key.RevokedAt is { } at ? $"revoked {at:yyyy-MM-dd HH:mm}" : "valid")}");
        return 0;
    });

    private static int Revoke(CliArgs a) => WithStore(a, create: false, async store =>
    {
        string name = a.Required("name");
        if (!await store.RevokeKeyAsync(name)) throw new ArgumentException($"no valid key named '{name}'");
        Console.WriteLine($"revoked '{name}'");
        return 0;
    });

    private static int WithStore(CliArgs a, bool create, Func<FeedbackStore, Task<int>> run)
    {
        string db = a.Required("db");
        if (!create && !FeedbackStore.Exists(db))
            throw new FileNotFoundException($"{db}: no feedback store there (keys add --create-db starts a new one)");
        return RunAsync().GetAwaiter().GetResult();

        async Task<int> RunAsync()
        {
            await using var store = await FeedbackStore.OpenAsync(db, create: create);
            return await run(store);
        }
    }
}
