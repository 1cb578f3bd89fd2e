using System.Text.Json;

namespace LeadEngine.Engine.SafeTensors;

/// <summary>
/// The tensors of a model folder: <c>model.safetensors</c>, or the shards listed in
/// <c>model.safetensors.index.json</c>. Every shard is validated on open.
/// </summary>
public sealed class SafeTensorStore : IDisposable
{
    private readonly List<SafeTensorFile> _files;
    private readonly Dictionary<string, SafeTensorFile> _owner = new(StringComparer.Ordinal);

    /// <summary>The folder or file this store was opened from.</summary>
    public string Source { get; }

    /// <summary>Every tensor, by name.</summary>
    public IEnumerable<TensorInfo> Tensors => _owner.Select(p => p.Value.Tensors[p.Key]);

    /// <summary>The shard files.</summary>
    public IReadOnlyList<SafeTensorFile> Files => _files;

    private SafeTensorStore(string source, List<SafeTensorFile> files)
    {
        Source = source;
        _files = files;
        foreach (var file in files)
        {
            foreach (var name in file.Tensors.Keys)
            {
                if (!_owner.TryAdd(name, file))
                    throw new SafeTensorsException(file.Path, name, $"tensor also present in {_owner[name].Path}");
            }
        }
    }

    /// <summary>Opens a model folder (single file or sharded) or a single .safetensors file.</summary>
    /// <exception cref="SafeTensorsException">A file is missing or malformed.</exception>
    public static SafeTensorStore Open(string path)
    {
        if (File.Exists(path)) return FromFiles(path, [path]);
        string single = System.IO.Path.Combine(path, "model.safetensors");
        string index = System.IO.Path.Combine(path, "model.safetensors.index.json");
        if (File.Exists(single)) return FromFiles(path, [single]);
        if (!File.Exists(index))
            throw new SafeTensorsException(path, null, "no model.safetensors or model.safetensors.index.json in this folder");
        List<string> shards;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(index, null, "missing 'weight_map' object");
            shards = map.EnumerateObject().Select(p => p.Value.GetString() ?? throw new SafeTensorsException(index, p.Name, "shard name is not a string"))
                .Distinct().Select(f => System.IO.Path.Combine(path, f)).ToList();
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(index, null, $"not well-formed JSON: {e.Message}", e);
        }
        return FromFiles(path, shards);
    }

    private static SafeTensorStore FromFiles(string source, List<string> paths)
    {
        var files = new List<SafeTensorFile>();
        try
        {
            foreach (var p in paths) files.Add(SafeTensorFile.Open(p));
            return new SafeTensorStore(source, files);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>True when the store holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _owner.ContainsKey(name);

    /// <summary>The file holding <paramref name="name"/> and its description; throws naming the tensor when missing.</summary>
    public (SafeTensorFile File, TensorInfo Info) Get(string name) =>
        _owner.TryGetValue(name, out var file) ? (file, file.Tensors[name]) : throw new SafeTensorsException(Source, name, "tensor not found");

    /// <summary>A tensor widened to fp32 (a copy).</summary>
    public float[] ReadFloat32(string name) => Get(name).File.ReadFloat32(name);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
