using Microsoft.Data.Sqlite;
using Npgsql;

namespace LeadEngine.Tests.Serving;

/// <summary>
/// The databases the store tests run on: SQLite always; PostgreSQL when
/// <c>LEADENGINE_TEST_POSTGRES</c> holds a connection string (scripts/test.sh starts a server
/// from Debian's package and sets it). Each test gets a database of its own: a new SQLite file,
/// or a new PostgreSQL schema dropped afterwards.
/// </summary>
public static class TestDatabases
{
    public const string PostgresVariable = "LEADENGINE_TEST_POSTGRES";

    public static string? Postgres => Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } s ? s : null;

    public const string PostgresMissing = $"{PostgresVariable} is not set, so the PostgreSQL cases of the store and service tests did not run: " +
        "scripts/test.sh starts PostgreSQL from Debian's package (scripts/postgres.sh) and sets it; see that script's output for why it could not.";

    /// <summary>"sqlite", and "postgres" when a server is configured.</summary>
    public static IEnumerable<object[]> Kinds()
    {
        yield return ["sqlite"];
        if (Postgres is not null) yield return ["postgres"];
    }

    /// <summary>A fresh, empty database of <paramref name="kind"/>.</summary>
    public static async Task<TestDatabase> CreateAsync(string kind)
    {
        if (kind == "sqlite")
        {
            string dir = Directory.CreateTempSubdirectory("le-store-").FullName;
            return new TestDatabase(kind, Path.Combine(dir, "feedback.db"), () =>
            {
                SqliteConnection.ClearAllPools();
                Directory.Delete(dir, true);
                return Task.CompletedTask;
            });
        }
        string schema = $"t_{Guid.NewGuid():N}";
        await ExecuteAsync(Postgres!, $"CREATE SCHEMA {schema}");
        var target = new NpgsqlConnectionStringBuilder(Postgres) { SearchPath = schema }.ToString();
        return new TestDatabase(kind, target, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(Postgres!, $"DROP SCHEMA {schema} CASCADE");
        });
    }

    /// <summary>Runs SQL outside the store (to set up states the store would never make).</summary>
    public static async Task ExecuteAsync(string kind, string target, string sql)
    {
        if (kind == "sqlite")
        {
            await using var connection = new SqliteConnection($"Data Source={target}");
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
        else await ExecuteAsync(target, sql);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>One test's database: the store target and how to remove it.</summary>
public sealed class TestDatabase(string kind, string target, Func<Task> remove) : IAsyncDisposable
{
    public string Kind { get; } = kind;
    public string Target { get; } = target;
    public ValueTask DisposeAsync() => new(remove());
}

/// <summary>A fact that runs only where a PostgreSQL server is configured, and says why it skips elsewhere.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute([System.Runtime.CompilerServices.CallerFilePath] string? sourceFilePath = null,
        [System.Runtime.CompilerServices.CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (TestDatabases.Postgres is null) Skip = TestDatabases.PostgresMissing;
    }
}
