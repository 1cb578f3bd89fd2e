using System.Globalization;
using System.Text;
using System.Text.Json;
using LeadEngine.Training;

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
    /// <summary>The columns that are not features: identity, time, outcomes and the dialogue.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(["lead_id", "created_at", "converted", "stage", "call_seconds", "dialogue"]);

    /// <summary>Reads <paramref name="path"/> (.csv, or .jsonl/.json for JSON Lines).</summary>
    /// <param name="path">The file.</param>
    /// <param name="funnel">Stages are checked against it.</param>
    /// <param name="requireOutcome">True for training/eval data (converted and stage required); false for leads to score.</param>
    /// <param name="skipBadRows">Skip and count bad rows instead of stopping at the first.</param>
    /// <param name="columns">Which column holds what; our names when null. Roles whose column the file lacks become absent (said in <see cref="LeadDataSet.Notes"/>).</param>
    public static LeadDataSet Read(string path, FunnelConfig funnel, bool requireOutcome, bool skipBadRows = false, LeadColumns? columns = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var rows = (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? CsvRows(path) : JsonRows(path)).ToList();
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

    /// <summary>A label's value as 0/1: 1/0, yes/no, true/false, y/n in any case; null when it is none of them.</summary>
    public static int? ParseLabel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "1" or "yes" or "true" or "y" => 1,
        "0" or "no" or "false" or "n" => 0,
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
            if (!DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out createdAt))
                throw new LeadDataException(source, line, columns.CreatedAt, $"'{created}' is not an ISO 8601 date");
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
        var notFeatures = columns == LeadColumns.Standard ? Reserved : columns.NotFeatures;
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

    private static IEnumerable<(int Line, List<KeyValuePair<string, string?>>? Fields, LeadDataException? Error)> CsvRows(string path)
    {
        char separator = Separator(File.ReadLines(path).FirstOrDefault() ?? "");
        using var reader = new StreamReader(path, Encoding.UTF8);
        int line = 1;
        var header = ReadRecord(reader, separator, ref line, out int headerLine);
        if (header is null) yield break;
        if (header.Count > 0 && header[0].StartsWith('\uFEFF')) header[0] = header[0][1..];
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new LeadDataException(path, headerLine, duplicate.Key, "column listed twice in the header");
        while (true)
        {
            List<string>? record;
            int start;
            LeadDataException? error = null;
            try
            {
                record = ReadRecord(reader, separator, ref line, out start);
            }
            catch (FormatException e)
            {
                throw new LeadDataException(path, line, null, e.Message);
            }
            if (record is null) yield break;
            if (record.Count == 1 && record[0].Length == 0) continue;
            if (record.Count != header.Count)
                error = new LeadDataException(path, start, null, $"{record.Count} fields but the header has {header.Count}");
            yield return (start, error is null ? header.Zip(record, (h, v) => new KeyValuePair<string, string?>(h, v)).ToList() : null, error);
        }
    }

    /// <summary>The header's separator: whichever of comma, semicolon and tab it has most of outside quotes (comma when none).</summary>
    private static char Separator(string header)
    {
        var counts = new Dictionary<char, int> { [','] = 0, [';'] = 0, ['\t'] = 0 };
        bool quoted = false;
        foreach (char c in header)
        {
            if (c == '"') quoted = !quoted;
            else if (!quoted && counts.ContainsKey(c)) counts[c]++;
        }
        return counts.MaxBy(kv => kv.Value) is { Value: > 0 } best ? best.Key : ',';
    }

    /// <summary>One CSV record (RFC 4180), or null at end of file; <paramref name="line"/> advances past it.</summary>
    private static List<string>? ReadRecord(StreamReader reader, char separator, ref int line, out int startLine)
    {
        startLine = line;
        if (reader.Peek() < 0) return null;
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, fieldStart = true;
        while (true)
        {
            int c = reader.Read();
            if (c < 0)
            {
                if (quoted) throw new FormatException($"quoted field opened on line {startLine} never closes");
                fields.Add(field.ToString());
                return fields;
            }
            char ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (ch == '\n') line++;
                    field.Append(ch);
                }
                continue;
            }
            switch (ch)
            {
                case '"' when fieldStart:
                    quoted = true;
                    fieldStart = false;
                    break;
                case var _ when ch == separator:
                    fields.Add(field.ToString());
                    field.Clear();
                    fieldStart = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    line++;
                    fields.Add(field.ToString());
                    return fields;
                default:
                    field.Append(ch);
                    fieldStart = false;
                    break;
            }
        }
    }
}
