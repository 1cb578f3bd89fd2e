using System.Globalization;
using System.Text.Json;
using LeadEngine.LeadScoring;
using LeadEngine.Feedback;
using Microsoft.AspNetCore.Http;

namespace LeadEngine.Server;

/// <summary>A request the service refuses: the HTTP status, the field at fault (a JSON path or a query parameter) and why.</summary>
public sealed class RequestException(int status, string field, string message) : Exception(message)
{
    /// <summary>HTTP status (4xx).</summary>
    public int Status { get; } = status;
    /// <summary>The field at fault: <c>$.leads[2].created_at</c>, <c>$[0].kind</c>, <c>k</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Reads request bodies strictly: JSON only, within the size limit, every field checked for
/// presence, type and value, unknown fields refused. Each failure names the field.
/// </summary>
internal static class RequestReader
{
    /// <summary>
    /// The body as JSON: 415 if not declared <c>application/json</c>, 413 if over the limit, 400 if malformed or if
    /// any key or string is not valid text (invalid UTF-8, a lone UTF-16 surrogate).
    /// </summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancel)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            throw new RequestException(StatusCodes.Status415UnsupportedMediaType, "Content-Type", $"the body must be application/json, got '{request.ContentType}'");
        try
        {
            var document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }, cancel);
            try
            {
                CheckText(document.RootElement, "$");
            }
            catch
            {
                document.Dispose();
                throw;
            }
            return document;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new RequestException(StatusCodes.Status413PayloadTooLarge, "$", $"the body is larger than the limit of {request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes");
        }
        catch (JsonException e)
        {
            throw new RequestException(StatusCodes.Status400BadRequest, string.IsNullOrEmpty(e.Path) ? "$" : e.Path,
                $"malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message) => message.Split(" LineNumber:")[0].Trim();

    /// <summary>Every key and string below <paramref name="element"/> decodes to text (JsonDocument checks neither until read).</summary>
    private static void CheckText(JsonElement element, string path)
    {
        const string NotText = "not valid text: invalid UTF-8 or a lone UTF-16 surrogate";
        // PostgreSQL's text cannot hold U+0000; refused on every store so that both behave the same.
        const string HasNul = "holds a NUL character (\\u0000), which the feedback store cannot keep";
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try { name = property.Name; }
                    catch (InvalidOperationException) { throw new RequestException(StatusCodes.Status400BadRequest, path, $"a key is {NotText}"); }
                    if (name.Contains('\0')) throw new RequestException(StatusCodes.Status400BadRequest, path, $"a key {HasNul}");
                    CheckText(property.Value, Field(path, name));
                }
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray()) CheckText(item, $"{path}[{i++}]");
                break;
            case JsonValueKind.String:
                string? text;
                try { text = element.GetString(); }
                catch (InvalidOperationException) { throw new RequestException(StatusCodes.Status400BadRequest, path, $"the value is {NotText}"); }
                if (text!.Contains('\0')) throw new RequestException(StatusCodes.Status400BadRequest, path, $"the value {HasNul}");
                break;
        }
    }

    /// <summary>
    /// One object or a list of objects: the items with their JSON paths, and whether it was a list.
    /// </summary>
    public static (List<(JsonElement Item, string Path)> Items, bool IsList) OneOrList(JsonElement root, string what, int max)
    {
        if (root.ValueKind == JsonValueKind.Object) return ([(root, "$")], false);
        if (root.ValueKind != JsonValueKind.Array)
            throw new RequestException(StatusCodes.Status400BadRequest, "$", $"expected one {what} (a JSON object) or a list of them, got {Kind(root)}");
        int count = root.GetArrayLength();
        if (count == 0) throw new RequestException(StatusCodes.Status400BadRequest, "$", $"the list holds no {what}");
        if (count > max) throw new RequestException(StatusCodes.Status413PayloadTooLarge, "$", $"{count} {what}s in one request; at most {max}");
        var items = new List<(JsonElement, string)>(count);
        int i = 0;
        foreach (var item in root.EnumerateArray())
        {
            string path = $"$[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw new RequestException(StatusCodes.Status400BadRequest, path, $"expected a {what} (a JSON object), got {Kind(item)}");
            items.Add((item, path));
        }
        return (items, true);
    }

    /// <summary>
    /// A lead in the lead file schema (<c>lead_id</c>, <c>created_at</c>, feature columns,
    /// <c>dialogue</c>; outcome columns are allowed and ignored for scoring). Values must be
    /// strings, numbers, booleans or null; with a <paramref name="schema"/>, a column the model was
    /// not trained on is refused, since it would change the prompt the model reads.
    /// </summary>
    public static Lead Lead(JsonElement item, string path, LeadSchema? schema)
    {
        var fields = new List<KeyValuePair<string, string?>>();
        foreach (var property in item.EnumerateObject())
        {
            string field = Field(path, property.Name);
            if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                throw new RequestException(StatusCodes.Status400BadRequest, field, $"expected a string, number, boolean or null, got {Kind(property.Value)}");
            if (schema is not null && !schema.Accepts(property.Name))
                throw new RequestException(StatusCodes.Status400BadRequest, field,
                    $"unknown field '{property.Name}': the model was trained on {string.Join(", ", schema.Features)} (and lead_id, created_at, dialogue)");
            if (fields.Any(f => f.Key == property.Name)) throw new RequestException(StatusCodes.Status400BadRequest, field, $"field '{property.Name}' given twice");
            // A CRM that sends true for a numeric column has a mapping error: read as 1 it would score silently.
            if (property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False && schema?.IsNumeric(property.Name) == true)
                throw new RequestException(StatusCodes.Status400BadRequest, field, $"expected a number, got a boolean; the model reads '{property.Name}' as a number");
            string? text = LeadDataReader.JsonFieldText(property.Value);
            if (text is not null && schema?.Refuses(property.Name, text) is { } refused) throw new RequestException(StatusCodes.Status400BadRequest, field, refused);
            if (property.Name == "lead_id" && text is not null) KeptAsSent(field, property.Name, text);
            fields.Add(new(property.Name, text));
        }
        Lead lead;
        try
        {
            lead = LeadDataReader.Parse("request", 0, fields, LeadSchema.FunnelOf(schema), requireOutcome: false);
        }
        catch (LeadDataException e)
        {
            throw new RequestException(StatusCodes.Status400BadRequest, e.Column is null ? path : Field(path, e.Column), e.Problem);
        }
        if (IdProblem(lead.Id) is { } problem) throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "lead_id"), problem);
        return lead;
    }

    /// <summary>Longest lead or event id, in characters.</summary>
    public const int MaxIdLength = 200;

    /// <summary>Why the store could not serve <paramref name="id"/> back (<c>GET /v1/leads/{id}</c>), or null.</summary>
    private static string? IdProblem(string id)
    {
        string shown = id.Length <= 40 ? id : id[..40] + "…";
        if (id.Length > MaxIdLength) return $"lead id of {id.Length} characters; at most {MaxIdLength}";
        if (id is "." or ".." || id.Contains('/') || id.Contains('\\') || id.Any(char.IsControl))
            return $"lead id '{string.Concat(shown.Select(c => char.IsControl(c) ? '?' : c))}' cannot be served back: no '/', '\\', control characters, '.' or '..'";
        return null;
    }

    private static readonly HashSet<string> EventFields = ["event_id", "lead_id", "kind", "at", "call_seconds", "note", "answered"];

    /// <summary>Longest call taken, in seconds: a day.</summary>
    public const int MaxCallSeconds = 86_400;

    /// <summary>Longest <c>note</c> kept, in characters.</summary>
    public const int MaxNoteLength = 4000;

    /// <summary>An outcome event: <c>event_id</c>, <c>lead_id</c>, <c>kind</c>, <c>at</c> required; <c>call_seconds</c>, <c>note</c>, <c>answered</c> optional.</summary>
    public static OutcomeEvent Event(JsonElement item, string path)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in item.EnumerateObject())
        {
            if (!EventFields.Contains(property.Name))
                throw new RequestException(StatusCodes.Status400BadRequest, Field(path, property.Name),
                    $"unknown field '{property.Name}'; an event has {string.Join(", ", EventFields)}");
            // A repeated key would otherwise be read as one of its values: "contacted" then "converted" closes the lead.
            if (!seen.Add(property.Name)) throw new RequestException(StatusCodes.Status400BadRequest, Field(path, property.Name), $"field '{property.Name}' given twice");
        }
        string eventId = RequiredString(item, path, "event_id", 200, asSent: true);
        string leadId = RequiredString(item, path, "lead_id", 200, asSent: true);
        string kindText = RequiredString(item, path, "kind", 40);
        if (!OutcomeKinds.TryParse(kindText, out var kind))
            throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "kind"), $"unknown kind '{kindText}'; one of {string.Join(", ", OutcomeKinds.Names)}");
        string atText = RequiredString(item, path, "at", 64);
        var at = IsoDate.Parse(atText, out string? dateProblem) ?? throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "at"), dateProblem!);
        double? call = null;
        if (item.TryGetProperty("call_seconds", out var callValue) && callValue.ValueKind != JsonValueKind.Null)
        {
            if (callValue.ValueKind != JsonValueKind.Number || !callValue.TryGetDouble(out double seconds))
                throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "call_seconds"), $"expected a number, got {Kind(callValue)}");
            if (seconds < 0 || !double.IsFinite(seconds))
                throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "call_seconds"), $"{callValue.GetRawText()} is not a non-negative number of seconds");
            if (seconds > MaxCallSeconds)
                throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "call_seconds"), $"{callValue.GetRawText()} seconds; at most {MaxCallSeconds} (a day)");
            call = seconds;
        }
        string? note = null;
        if (item.TryGetProperty("note", out var noteValue) && noteValue.ValueKind != JsonValueKind.Null)
        {
            if (noteValue.ValueKind != JsonValueKind.String) throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "note"), $"expected a string, got {Kind(noteValue)}");
            note = noteValue.GetString()!;
            if (note.Length > MaxNoteLength) throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "note"), $"{note.Length} characters; at most {MaxNoteLength}");
        }
        bool? answered = null;
        if (item.TryGetProperty("answered", out var answeredValue) && answeredValue.ValueKind != JsonValueKind.Null)
            answered = answeredValue.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new RequestException(StatusCodes.Status400BadRequest, Field(path, "answered"), $"expected true or false, got {Kind(answeredValue)}"),
            };
        return new OutcomeEvent(eventId, leadId, kind, at, call, note, answered);
    }

    /// <summary>
    /// A required string, trimmed; an id (<paramref name="asSent"/>) is kept as sent (<see cref="KeptAsSent"/>).
    /// </summary>
    private static string RequiredString(JsonElement item, string path, string name, int maxLength, bool asSent = false)
    {
        string field = Field(path, name);
        if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new RequestException(StatusCodes.Status400BadRequest, field, $"'{name}' is required");
        if (value.ValueKind != JsonValueKind.String) throw new RequestException(StatusCodes.Status400BadRequest, field, $"expected a string, got {Kind(value)}");
        string sent = value.GetString()!, text = sent.Trim();
        if (asSent) KeptAsSent(field, name, sent);
        if (text.Length == 0) throw new RequestException(StatusCodes.Status400BadRequest, field, $"'{name}' is empty");
        if (text.Length > maxLength) throw new RequestException(StatusCodes.Status400BadRequest, field, $"{text.Length} characters; at most {maxLength}");
        return text;
    }

    /// <summary>
    /// Ids are kept exactly as sent: one with whitespace around it is refused rather than trimmed, so that <c>" e1"</c> and <c>"e1"</c>
    /// never collapse into one event or lead (an id of whitespace alone is left to the empty-id check).
    /// </summary>
    private static void KeptAsSent(string field, string name, string id)
    {
        int trimmed = id.AsSpan().Trim().Length;
        if (trimmed > 0 && trimmed != id.Length)
            throw new RequestException(StatusCodes.Status400BadRequest, field, $"'{name}' has leading or trailing whitespace; ids are kept exactly as sent");
    }

    /// <summary>Refuses any query parameter not in <paramref name="allowed"/> (a misspelt <c>?explian=true</c> would otherwise be ignored).</summary>
    public static void OnlyQuery(HttpRequest request, params string[] allowed)
    {
        foreach (var key in request.Query.Keys)
            if (!allowed.Contains(key))
                throw new RequestException(StatusCodes.Status400BadRequest, key, allowed.Length == 0
                    ? $"unknown query parameter '{key}'; this endpoint takes none"
                    : $"unknown query parameter '{key}'; this endpoint takes {string.Join(", ", allowed.Select(a => $"'{a}'"))}");
    }

    /// <summary>An integer query parameter in [<paramref name="min"/>, <paramref name="max"/>]; query parameters other than it and <paramref name="others"/> are refused.</summary>
    public static int QueryInt(HttpRequest request, string name, int min, int max, params string[] others)
    {
        OnlyQuery(request, [name, .. others]);
        var values = request.Query[name];
        if (values.Count == 0) throw new RequestException(StatusCodes.Status400BadRequest, name, $"query parameter '{name}' is required");
        if (values.Count > 1) throw new RequestException(StatusCodes.Status400BadRequest, name, $"query parameter '{name}' given {values.Count} times");
        if (!int.TryParse(values[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new RequestException(StatusCodes.Status400BadRequest, name, $"'{values[0]}' is not an integer");
        if (n < min || n > max) throw new RequestException(StatusCodes.Status400BadRequest, name, $"{n} is outside {min}..{max}");
        return n;
    }

    /// <summary>An optional RFC 3339 time query parameter (null when absent).</summary>
    public static DateTimeOffset? QueryTime(HttpRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count == 0) return null;
        if (values.Count > 1) throw new RequestException(StatusCodes.Status400BadRequest, name, $"query parameter '{name}' given {values.Count} times");
        return IsoDate.Parse(values[0] ?? "", out string? problem) ?? throw new RequestException(StatusCodes.Status400BadRequest, name, problem!);
    }

    private static string Field(string path, string name) =>
        name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'")}']";

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
