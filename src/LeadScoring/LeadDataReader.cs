using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;

using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Reads leads from CSV (header row, RFC 4180 quoting, fields may span lines; comma, semicolon or tab
/// separated, told apart by the header) or JSON Lines: by default <c>lead_id</c>, <c>created_at</c>
/// (ISO 8601), <c>converted</c> (0/1), <c>stage</c>, optional <c>call_seconds</c> and <c>dialogue</c>,
/// other names through a <see cref="LeadColumns"/> mapping, and any other columns as features. A bad
/// row (missing id, unparsable date, unknown stage, label not 0/1, bad number) raises
/// <see cref="LeadDataException"/> naming file, line and column, or is skipped and counted.
/// </summary>
public static class LeadDataReader
{
    /// <summary>Each mapping's non-feature columns, built once per mapping instead of once per row.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LeadColumns, IReadOnlySet<string>> NotFeatureSets = new();

    /// <summary>
    /// Reads <paramref name="path"/>: .csv (any of comma, semicolon, tab), .parquet (a CRM or warehouse export;
    /// errors name the row number where a CSV's name the line), else JSON Lines.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="funnel">Stages are checked against it.</param>
    /// <param name="requireOutcome">True for training/eval data (converted and stage required); false for leads to score.</param>
    /// <param name="skipBadRows">Skip and count bad rows instead of stopping at the first.</param>
    /// <param name="columns">Which column holds what; our names when null. Roles whose column the file lacks become absent (said in <see cref="LeadDataSet.Notes"/>).</param>
    public static LeadDataSet Read(string path, FunnelConfig funnel, bool requireOutcome, bool skipBadRows = false, LeadColumns? columns = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var rows = (Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => CsvRows(path),
            ".parquet" => ParquetRows(path),
            _ => JsonRows(path),
        }).ToList();
        var header = rows.Where(r => r.Fields is not null).SelectMany(r => r.Fields!.Select(f => f.Key)).ToHashSet(StringComparer.Ordinal);
        var notes = new List<string>();
        var mapping = (columns ?? LeadColumns.Standard).ForHeader(path, header, requireOutcome, notes);
        var leads = new List<Lead>();
        var skipped = new List<LeadDataException>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        // Every data row, bad ones too, takes its number, so a row-number id is the row's place in the file.
        int row = 0;
        foreach (var (line, fields, error) in rows)
        {
            int index = row++;
            try
            {
                if (error is not null) throw error;
                var lead = Parse(path, line, fields!, funnel, requireOutcome, mapping, index);
                if (!ids.Add(lead.Id)) throw new LeadDataException(path, line, mapping.Id, $"duplicate lead id '{lead.Id}'");
                leads.Add(lead);
            }
            catch (LeadDataException e) when (skipBadRows)
            {
                skipped.Add(e);
            }
        }
        return new LeadDataSet(leads, skipped, mapping, notes);
    }

    /// <summary>Creation time of the row at <paramref name="row"/> when the file has none: one second per row, so the row order is the time order.</summary>
    public static DateTimeOffset RowOrderTime(int row) => DateTimeOffset.UnixEpoch.AddSeconds(row);

    /// <summary>
    /// True when every lead's time is a <see cref="RowOrderTime"/> (a file without a creation-time column): whole seconds
    /// within the first 10⁸ after the Unix epoch.
    /// </summary>
    public static bool HasRowOrderTimes(IEnumerable<Lead> leads) => leads.All(l =>
        l.CreatedAt >= DateTimeOffset.UnixEpoch && l.CreatedAt < RowOrderTime(100_000_000) && (l.CreatedAt - DateTimeOffset.UnixEpoch).Ticks % TimeSpan.TicksPerSecond == 0);

    /// <summary>A label's value as 0/1: 1/0, yes/no, true/false, y/n in any case; null when it is none of them.</summary>
    public static int? ParseLabel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "1" or "1.0" or "yes" or "true" or "y" => 1, // 1.0 and 0.0: spreadsheet exports write numbers as floats
        "0" or "0.0" or "no" or "false" or "n" => 0,
        _ => null,
    };

    /// <summary>
    /// One lead from its columns, as a file row is read: <paramref name="source"/> and
    /// <paramref name="line"/> only name the place in errors; <paramref name="row"/> (0-based) is the
    /// id and time order when <paramref name="columns"/> maps no id or creation time.
    /// </summary>
    public static Lead Parse(string source, int line, IReadOnlyList<KeyValuePair<string, string?>> fields, FunnelConfig funnel, bool requireOutcome,
        LeadColumns? columns = null, int row = 0)
    {
        columns ??= LeadColumns.Standard;
        string? Get(string? name) => name is null ? null : fields.FirstOrDefault(f => f.Key == name).Value;
        string? id = columns.Id is null ? (row + 1).ToString(CultureInfo.InvariantCulture) : Get(columns.Id);
        if (string.IsNullOrWhiteSpace(id)) throw new LeadDataException(source, line, columns.Id, "missing lead id");
        DateTimeOffset createdAt = RowOrderTime(row);
        if (columns.CreatedAt is not null)
        {
            string? created = Get(columns.CreatedAt);
            if (string.IsNullOrWhiteSpace(created)) throw new LeadDataException(source, line, columns.CreatedAt, "missing date");
            createdAt = IsoDate.Parse(created, out string? problem) ?? throw new LeadDataException(source, line, columns.CreatedAt, problem!);
        }
        int? converted = null;
        string? convertedText = Get(columns.Label);
        if (!string.IsNullOrWhiteSpace(convertedText))
            converted = ParseLabel(convertedText) ?? throw new LeadDataException(source, line, columns.Label, $"label '{convertedText}' is not 0 or 1 (or yes/no, true/false)");
        else if (requireOutcome) throw new LeadDataException(source, line, columns.Label, "missing label");
        string? stage = Get(columns.Stage)?.Trim();
        if (columns.Stage is null)
        {
            stage = converted switch { 1 => funnel.Stages[^1], 0 => funnel.Stages[0], _ => null };
        }
        else if (string.IsNullOrEmpty(stage))
        {
            if (requireOutcome) throw new LeadDataException(source, line, columns.Stage, "missing stage");
            stage = null;
        }
        else if (!funnel.IsKnownStage(stage))
        {
            throw new LeadDataException(source, line, columns.Stage, $"unknown stage '{stage}' (funnel '{funnel.Name}': {string.Join(", ", funnel.Stages.Concat(funnel.LostStages))})");
        }
        double? call = null;
        string? callText = Get(columns.CallSeconds);
        if (!string.IsNullOrWhiteSpace(callText))
        {
            if (!double.TryParse(callText, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) || c < 0 || !double.IsFinite(c))
                throw new LeadDataException(source, line, columns.CallSeconds, $"'{callText}' is not a non-negative number");
            call = c;
        }
        var notFeatures = NotFeatureSets.GetValue(columns, c => c.NotFeatures);
        string? dialogue = Get(columns.Dialogue);
        return new Lead
        {
            Id = id.Trim(),
            CreatedAt = createdAt,
            Converted = converted,
            Stage = stage,
            CallSeconds = call,
            Dialogue = string.IsNullOrWhiteSpace(dialogue) ? null : dialogue,
            Features = fields.Where(f => !notFeatures.Contains(f.Key) && !string.IsNullOrWhiteSpace(f.Value))
                .Select(f => new KeyValuePair<string, string>(f.Key, f.Value!.Trim())).ToList(),
        };
    }

    private static IEnumerable<(int Line, List<KeyValuePair<string, string?>>? Fields, LeadDataException? Error)> JsonRows(string path)
    {
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            List<KeyValuePair<string, string?>>? fields = null;
            LeadDataException? error = null;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not a JSON object");
                fields = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, string?>(p.Name, JsonFieldText(p.Value))).ToList();
            }
            catch (JsonException e)
            {
                error = new LeadDataException(path, line, null, $"not a JSON object: {e.Message}");
            }
            yield return (line, fields, error);
        }
    }

    /// <summary>A JSON value as a column's text: strings as they are, numbers as written, true/false as 1/0, null as missing.</summary>
    public static string? JsonFieldText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "1",
        JsonValueKind.False => "0",
        _ => value.GetRawText(),
    };

    /// <summary>
    /// CSV rows through Sep (RFC 4180; the separator is detected from the header, so comma, semicolon and tab
    /// exports all read). Sep does the splitting; what it accepts silently and a lead file must not have is
    /// checked here: a quoted field that never closes, a column listed twice, rows with another field count.
    /// </summary>
    private static IEnumerable<(int Line, List<KeyValuePair<string, string?>>? Fields, LeadDataException? Error)> CsvRows(string path)
    {
        using var reader = Sep.Reader(o => o with { DisableColCountCheck = true }).FromFile(path);
        var header = reader.Header.ColNames
            .Select(name => Unquote(name) ?? throw new LeadDataException(path, 1, null, "quoted column name in the header never closes")).ToList();
        if (header.Count == 0) yield break;
        if (header[0].StartsWith('\uFEFF')) header[0] = header[0][1..];
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new LeadDataException(path, 1, duplicate.Key, "column listed twice in the header");
        foreach (var row in reader)
        {
            int line = row.LineNumberFrom;
            if (row.ColCount == 1 && row[0].Span.IsEmpty) continue;
            if (row.ColCount != header.Count)
            {
                yield return (line, null, new LeadDataException(path, line, null, $"{row.ColCount} fields but the header has {header.Count}"));
                continue;
            }
            var fields = new List<KeyValuePair<string, string?>>(header.Count);
            for (int i = 0; i < header.Count; i++)
                fields.Add(new(header[i], Unquote(row[i].Span) ?? throw new LeadDataException(path, line, header[i], $"quoted field opened on line {line} never closes")));
            yield return (line, fields, null);
        }
    }

    /// <summary>
    /// Parquet rows through Parquet.Net, every value as the text a CSV would hold: numbers invariant and
    /// round-trip, booleans 1/0, timestamps ISO 8601 in UTC, nulls missing. The row number stands for the line.
    /// </summary>
    private static IEnumerable<(int Line, List<KeyValuePair<string, string?>>? Fields, LeadDataException? Error)> ParquetRows(string path)
    {
        Parquet.Serialization.DeserializationResult<Dictionary<string, object>> table;
        try
        {
            using var stream = File.OpenRead(path);
            table = Parquet.Serialization.ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)   // Parquet.Net documents no exception types
        {
            throw new LeadDataException(path, 0, null, $"not a Parquet file that can be read: {e.Message}");
        }
        var names = table.Schema.Fields.Select(f => f.Name).ToList();
        int row = 0;
        foreach (var values in table.Data)
        {
            row++;
            yield return (row, names.Select(n => new KeyValuePair<string, string?>(n, values.TryGetValue(n, out var v) ? ParquetText(v) : null)).ToList(), null);
        }
    }

    /// <summary>A Parquet value as a column's text (see <see cref="JsonFieldText"/> for the same rules on JSON).</summary>
    private static string? ParquetText(object? value) => value switch
    {
        null => null,
        string text => text,
        bool flag => flag ? "1" : "0",
        DateTime time => DateTime.SpecifyKind(time, time.Kind == DateTimeKind.Local ? DateTimeKind.Local : DateTimeKind.Utc).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("o", CultureInfo.InvariantCulture),
        DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>A raw CSV field without its quotes and with doubled quotes undone; null for a quoted field that does not close.</summary>
    private static string? Unquote(ReadOnlySpan<char> raw)
    {
        if (raw.IsEmpty || raw[0] != '"') return raw.ToString();
        if (raw.Length < 2 || raw[^1] != '"' || raw.Count('"') % 2 != 0) return null;
        return raw[1..^1].ToString().Replace("\"\"", "\"", StringComparison.Ordinal);
    }
}
