using System.Text.Json;

namespace LeadEngine.Engine;

/// <summary>Reads small JSON files whose errors must name the file.</summary>
public static class JsonFile
{
    /// <summary>
    /// <paramref name="path"/> as a <typeparamref name="T"/>; malformed JSON, a missing required
    /// property or a JSON <c>null</c> raise <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static T Read<T>(string path, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty {what}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }
}
