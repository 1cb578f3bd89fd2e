using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace LeadEngine.Feedback;

/// <summary>
/// What differs between the two databases: how to connect, column types, how times are stored
/// and how to take the migration lock. Everything else is the same SQL.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    /// <summary>For messages: the database kind and where it is.</summary>
    public abstract string Description { get; }

    /// <summary>A new open connection, set up for durable writes.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancel);

    /// <summary>The migration SQL with its type placeholders filled in.</summary>
    public abstract string Sql(string template);

    /// <summary>Statement run first in the migration transaction, so that two hosts never migrate at once.</summary>
    public abstract string? MigrationLock { get; }

    /// <summary>
    /// SQL that makes a transaction the only one of its <paramref name="kind"/> in progress, across every host on the
    /// database (null when the transaction's own lock does that).
    /// </summary>
    public abstract string? SerialLock(SerialWork kind);

    /// <summary>
    /// Takes the lock that lets one model update run at a time across every host, or returns null when another holds it.
    /// It is held until disposed, and let go by the database or the operating system when its process dies.
    /// </summary>
    public abstract Task<IAsyncDisposable?> TryLockUpdatesAsync(CancellationToken cancel);

    /// <summary>
    /// True when many rows go in as one array per column (PostgreSQL's <c>unnest</c>: over a network a round trip per row is the cost, and a
    /// statement of thousands of parameters is slow to parse); false for a row at a time through one reused statement (SQLite, in process).
    /// </summary>
    public abstract bool InsertsArrays { get; }

    /// <summary>A time as a parameter value.</summary>
    public abstract object Time(DateTimeOffset time);

    /// <summary>A time column.</summary>
    public abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>Closes pooled connections.</summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// SQLite: a file (created with its folder), write-ahead log, <c>synchronous=FULL</c> (a commit
    /// is on disk before it returns, so it survives a kill and a power loss), foreign keys on.
    /// </summary>
    public sealed class Sqlite(string path) : SqlDialect
    {
        private readonly string _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30,
        }.ToString();

        public override string Description => $"SQLite {path}";

        /// <summary>
        /// Whether opening may create the file: only while the store is opened and asked to create it. Afterwards a
        /// missing file (deleted or moved while serving) fails every open, so no write lands in a new empty file or
        /// in the unlinked one, and the service answers 503 instead of acknowledging what it will lose.
        /// </summary>
        public bool MayCreate { get; set; }

        private FileStream? _opened; // the database file as the store first opened it (see CheckNotReplaced)

        public override async Task<DbConnection> OpenAsync(CancellationToken cancel)
        {
            if (!MayCreate && !File.Exists(path))
                throw new FeedbackStoreException($"{Description}: the database file is missing (deleted or moved while in use); nothing is written until it is back");
            CheckNotReplaced();
            var connection = new SqliteConnection(_connectionString);
            try
            {
                await connection.OpenAsync(cancel);
                using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
                await pragma.ExecuteNonQueryAsync(cancel);
                return connection;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// Another file moved to the path while serving (a restore, another store copied over it) is not seen by the
        /// pooled connections: they keep the file they opened, unlinked now, and would write there unseen, while a new
        /// connection would read the new file through the old write-ahead log. The store holds the file it first opened
        /// (<see cref="_opened"/>); on Linux the kernel names it "PATH (deleted)" in /proc/self/fd once the path names
        /// another file. Every connection the store opens checks that one link first (one readlink), so no write is
        /// acknowledged into a replaced file: the service answers 503 and says why until it is restarted.
        /// </summary>
        private void CheckNotReplaced()
        {
            if (!OperatingSystem.IsLinux()) return;
            var opened = Volatile.Read(ref _opened);
            if (opened is null)
            {
                if (!File.Exists(path)) return; // about to be created: held from the next connection on
                var first = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (Interlocked.CompareExchange(ref _opened, first, null) is not null) first.Dispose();
                return;
            }
            string? target;
            try
            {
                target = new FileInfo($"/proc/self/fd/{opened.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                throw new FeedbackStoreException($"{Description}: the store is closed", e);
            }
            if (target is null || target.EndsWith(" (deleted)", StringComparison.Ordinal))
                throw new FeedbackStoreException($"{Description}: the database file was replaced while in use (this service still holds the one it opened, " +
                    "now unlinked); nothing is written: restart serve to use the file now at the path");
        }

        public override bool InsertsArrays => false;

        public override string Sql(string template) => template
            .Replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT").Replace("{time}", "TEXT").Replace("{real}", "REAL").Replace("{blob}", "BLOB")
            .Replace("{random}", "(((random() >> 11) & 9007199254740991) / 9007199254740992.0)");

        // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default transaction) already holds the write lock.
        public override string? MigrationLock => null;

        public override string? SerialLock(SerialWork kind) => null;

        // Updates run for minutes: a write transaction would stop every other write, so a lock file beside the database
        // (.NET takes FileShare.None as an exclusive flock, which the kernel drops with the process) says who updates.
        public override Task<IAsyncDisposable?> TryLockUpdatesAsync(CancellationToken cancel)
        {
            try
            {
                return Task.FromResult<IAsyncDisposable?>(new FileStream(path + ".update-lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                return Task.FromResult<IAsyncDisposable?>(null);
            }
        }

        // Fixed-width UTC text: string order is time order, and the value reads back exactly.
        public override object Time(DateTimeOffset time) => StoredTime.Of(time).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

        public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
            DateTimeOffset.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

        public override ValueTask DisposeAsync()
        {
            // Pooled connections keep the file (and its WAL) open; a closed store lets go of it.
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
            Interlocked.Exchange(ref _opened, null)?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>PostgreSQL by Npgsql connection string (several hosts share one store).</summary>
    public sealed class Postgres(string connectionString) : SqlDialect
    {
        private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

        public override string Description
        {
            get
            {
                var b = new NpgsqlConnectionStringBuilder(connectionString);
                return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
            }
        }

        public override async Task<DbConnection> OpenAsync(CancellationToken cancel) => await _source.OpenConnectionAsync(cancel);

        public override bool InsertsArrays => true;

        public override string Sql(string template) => template
            .Replace("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY").Replace("{time}", "TIMESTAMPTZ").Replace("{real}", "DOUBLE PRECISION").Replace("{blob}", "BYTEA")
            .Replace("{random}", "random()");

        public override string? MigrationLock => "LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE";

        // Transaction-scoped advisory locks (released at commit or rollback): that work queues up, other work does not wait.
        public override string? SerialLock(SerialWork kind) => $"SELECT pg_advisory_xact_lock({LockKey((int)kind)})";

        // A session advisory lock on a connection of its own, kept open while the update runs; the server lets go of it
        // when the connection ends, so a killed updater never blocks the next one.
        public override async Task<IAsyncDisposable?> TryLockUpdatesAsync(CancellationToken cancel)
        {
            var connection = await _source.OpenConnectionAsync(cancel);
            await using var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey(UpdateLock)})", connection);
            if ((bool)(await take.ExecuteScalarAsync(cancel))!) return new HeldLock(connection);
            await connection.DisposeAsync();
            return null;
        }

        /// <summary>
        /// Lets go explicitly: a pooled connection is only reset when next used, so closing it alone would keep the lock.
        /// </summary>
        private sealed class HeldLock(NpgsqlConnection connection) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey(UpdateLock)})", connection))
                    await release.ExecuteScalarAsync();
                await connection.DisposeAsync();
            }
        }

        // Advisory locks are database-wide; the second key is the store's schema, so stores in other schemas of one
        // database do not wait for each other.
        private static string LockKey(int work) => $"{LockSpace + work}, hashtext(current_schema())";

        private const int LockSpace = 0x4C45_0000, UpdateLock = 100;

        public override object Time(DateTimeOffset time) => StoredTime.Of(time);

        public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

        public override ValueTask DisposeAsync() => _source.DisposeAsync();
    }

    /// <summary>Work that runs one transaction at a time across every host.</summary>
    public enum SerialWork
    {
        /// <summary>Choosing and recording a call list.</summary>
        CallListClaim,
        /// <summary>Adding a version or changing the one that serves.</summary>
        ModelHistory,
    }

    /// <summary>
    /// PostgreSQL for a connection string (<c>Host=...</c> keywords or a <c>postgres://</c> URI),
    /// SQLite for anything else, taken as a file path.
    /// </summary>
    public static SqlDialect For(string target)
    {
        if (IsUri(target)) return new Postgres(UriToKeywords(new Uri(target)));
        if (IsKeywords(target)) return new Postgres(target);
        string path = Path.GetFullPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new Sqlite(path);
    }

    /// <summary>True for a PostgreSQL connection string or URI, false for a SQLite file path.</summary>
    public static bool IsPostgres(string target) => IsUri(target) || IsKeywords(target);

    private static bool IsUri(string target) =>
        target.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    private static bool IsKeywords(string target) => target.Contains("Host=", StringComparison.OrdinalIgnoreCase) && target.Contains(';');

    /// <summary>postgres://user:password@host:port/database as Npgsql keywords.</summary>
    private static string UriToKeywords(Uri uri)
    {
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host, Database = uri.AbsolutePath.Trim('/') };
        if (uri.Port > 0) b.Port = uri.Port;
        var user = uri.UserInfo.Split(':', 2);
        if (user[0].Length > 0) b.Username = Uri.UnescapeDataString(user[0]);
        if (user.Length > 1) b.Password = Uri.UnescapeDataString(user[1]);
        return b.ToString();
    }
}
