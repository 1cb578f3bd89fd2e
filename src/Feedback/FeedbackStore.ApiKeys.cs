using System.Data.Common;
using System.Security.Cryptography;
using System.Text;

namespace LeadEngine.Feedback;

public sealed partial class FeedbackStore
{
    /// <summary>
    /// Makes a key for <paramref name="name"/> with <paramref name="scopes"/> and returns it: the only time it is
    /// seen, since the store keeps its SHA-256 alone (a stolen database holds no usable key).
    /// </summary>
    public async Task<string> AddKeyAsync(string name, IReadOnlyList<string> scopes, CancellationToken cancel = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100) throw new ArgumentException("a key's name is 1 to 100 characters");
        string key = "le_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var connection = await _dialect.OpenAsync(cancel);
        using var insert = Command(connection, null,
            "INSERT INTO api_keys (name, key_hash, scopes, created_at) VALUES (@name, @hash, @scopes, @at)",
            ("name", name), ("hash", KeyHash(key)), ("scopes", string.Join(",", scopes)), ("at", _dialect.Time(DateTimeOffset.UtcNow)));
        try
        {
            await insert.ExecuteNonQueryAsync(cancel);
        }
        catch (DbException e) when (e.Message.Contains("UNIQUE", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"a key named '{name}' exists already (revoke it, or choose another name)");
        }
        return key;
    }

    /// <summary>Every key, valid or revoked, by name.</summary>
    public async Task<IReadOnlyList<ApiKey>> KeysAsync(CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, "SELECT name, scopes, created_at, revoked_at FROM api_keys ORDER BY name");
        await using var reader = await query.ExecuteReaderAsync(cancel);
        var keys = new List<ApiKey>();
        while (await reader.ReadAsync(cancel)) keys.Add(ReadKey(reader));
        return keys;
    }

    /// <summary>Revokes the key named <paramref name="name"/>; false when there is no valid key of that name.</summary>
    public async Task<bool> RevokeKeyAsync(string name, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var update = Command(connection, null, "UPDATE api_keys SET revoked_at = @at WHERE name = @name AND revoked_at IS NULL",
            ("at", _dialect.Time(DateTimeOffset.UtcNow)), ("name", name));
        return await update.ExecuteNonQueryAsync(cancel) == 1;
    }

    /// <summary>The key <paramref name="key"/> is, revoked or not; null when the store has no such key.</summary>
    public async Task<ApiKey?> FindKeyAsync(string key, CancellationToken cancel = default)
    {
        await using var connection = await _dialect.OpenAsync(cancel);
        using var query = Command(connection, null, "SELECT name, scopes, created_at, revoked_at FROM api_keys WHERE key_hash = @hash", ("hash", KeyHash(key)));
        await using var reader = await query.ExecuteReaderAsync(cancel);
        return await reader.ReadAsync(cancel) ? ReadKey(reader) : null;
    }

    private ApiKey ReadKey(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1).Split(','), _dialect.ReadTime(reader, 2), reader.IsDBNull(3) ? null : _dialect.ReadTime(reader, 3));

    private static string KeyHash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
