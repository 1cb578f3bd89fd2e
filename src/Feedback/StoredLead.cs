using System.Globalization;
using System.Text.Json;
using LeadEngine.LeadScoring;

namespace LeadEngine.Feedback;

/// <summary>
/// A lead's scoring columns as one JSON object (<c>lead_id</c>, <c>created_at</c>, the features
/// in order, <c>dialogue</c>): what the store keeps so that a lead can be scored again by a
/// newer model. Outcome columns are never kept here; outcomes are events.
/// </summary>
public static class StoredLead
{
    /// <summary>The lead's columns as a JSON object.</summary>
    public static string ToJson(Lead lead)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("lead_id", lead.Id);
            json.WriteString("created_at", lead.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            foreach (var (name, value) in lead.Features) json.WriteString(name, value);
            if (lead.Dialogue is not null) json.WriteString("dialogue", lead.Dialogue);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The lead back from <see cref="ToJson"/>.</summary>
    public static Lead FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var fields = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, string?>(p.Name, LeadDataReader.JsonFieldText(p.Value))).ToList();
        return LeadDataReader.Parse("feedback store", 0, fields, FunnelConfig.Default, requireOutcome: false);
    }
}
