using System.Text.Json;

namespace LeadEngine.Engine.SafeTensors;

/// <summary>Writes safetensors files: 8-byte header length, JSON header padded to 8 bytes, data in order.</summary>
public static class SafeTensorWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (<see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in list)
            {
                long expected = tensor.Shape.Aggregate(1L, (a, b) => a * b) * tensor.DType.Size();
                if (expected != tensor.Data.Length)
                    throw new ArgumentException($"tensor '{tensor.Name}': {tensor.Data.Length} bytes but shape needs {expected}");
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.Name());
                json.WriteStartArray("shape");
                foreach (long dim in tensor.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Data.Length;
            }
            json.WriteEndObject();
        }
        var header = headerStream.ToArray();
        int padded = (header.Length + 7) / 8 * 8;
        AtomicFile.Write(path, file =>
        {
            file.Write(BitConverter.GetBytes((ulong)padded));
            file.Write(header);
            for (int i = header.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var tensor in list) file.Write(tensor.Data);
        });
    }
}
