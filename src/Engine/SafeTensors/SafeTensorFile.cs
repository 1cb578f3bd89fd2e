using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace LeadEngine.Engine.SafeTensors;

/// <summary>Where one tensor lies in a safetensors file.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Offset">Byte offset from the start of the file.</param>
/// <param name="ByteLength">Bytes of data.</param>
public sealed record TensorInfo(string Name, TensorDType DType, long[] Shape, long Offset, long ByteLength)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => ByteLength / DType.Size();

    /// <summary>The shape as text, e.g. <c>[64, 4]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Throws, naming <paramref name="file"/> and this tensor, unless its shape is <paramref name="shape"/> (what the model or adapter needs).</summary>
    internal void ExpectShape(string file, long[] shape)
    {
        if (!Shape.SequenceEqual(shape))
            throw new SafeTensorsException(file, Name, $"shape {ShapeText} but the model needs [{string.Join(", ", shape)}]");
    }
}

/// <summary>
/// A memory-mapped safetensors file. The header is validated in full on open (length, JSON,
/// dtypes, offsets inside the data area, no overlaps, byte length = shape × dtype size); tensor
/// data are zero-copy spans over the mapping.
/// </summary>
public sealed unsafe class SafeTensorFile : IDisposable
{
    /// <summary>Largest header accepted (the format's own reference reader uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly Dictionary<string, TensorInfo> _tensors;
    private bool _disposed;

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafeTensorFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _tensors = tensors;
        Metadata = metadata;
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="SafeTensorsException">The file is missing, truncated or malformed.</exception>
    public static SafeTensorFile Open(string path)
    {
        if (!File.Exists(path)) throw new SafeTensorsException(path, null, "file not found");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw new SafeTensorsException(path, null, $"truncated: {fileLength} bytes, shorter than the 8-byte header length");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            ulong headerLength = view.ReadUInt64(0);
            if (headerLength > (ulong)MaxHeaderBytes)
                throw new SafeTensorsException(path, null, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte cap");
            if ((long)headerLength > fileLength - 8)
                throw new SafeTensorsException(path, null, $"truncated: header length {headerLength} but only {fileLength - 8} bytes follow");
            var header = new byte[headerLength];
            view.ReadArray(8, header, 0, header.Length);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, dataStart, fileLength - dataStart);
            return new SafeTensorFile(path, map, view, tensors, metadata);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataStart, long dataLength)
    {
        try
        {
            // JsonDocument defers UTF-8 checks of property names to enumeration; check up front.
            StrictUtf8.GetCharCount(header);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new SafeTensorsException(path, null, $"header is not valid UTF-8: {e.Message}", e);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(path, null, $"header is not well-formed JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(path, null, "header is not a JSON object");
            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var spans = new List<(long Begin, long End, string Name)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new SafeTensorsException(path, null, "__metadata__ is not an object");
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        if (entry.Value.ValueKind != JsonValueKind.String)
                            throw new SafeTensorsException(path, null, $"__metadata__ value '{entry.Name}' is not a string");
                        metadata[entry.Name] = entry.Value.GetString()!;
                    }
                    continue;
                }
                var info = ParseEntry(path, property, dataStart, dataLength);
                if (!tensors.TryAdd(info.Name, info))
                    throw new SafeTensorsException(path, info.Name, "tensor listed twice in the header");
                spans.Add((info.Offset - dataStart, info.Offset - dataStart + info.ByteLength, info.Name));
            }
            spans.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < spans.Count; i++)
            {
                if (spans[i].Begin < spans[i - 1].End)
                    throw new SafeTensorsException(path, spans[i].Name, $"data [{spans[i].Begin}, {spans[i].End}) overlaps tensor '{spans[i - 1].Name}' [{spans[i - 1].Begin}, {spans[i - 1].End})");
            }
            return (tensors, metadata);
        }
    }

    private static TensorInfo ParseEntry(string path, JsonProperty property, long dataStart, long dataLength)
    {
        string name = property.Name;
        var entry = property.Value;
        if (entry.ValueKind != JsonValueKind.Object) throw new SafeTensorsException(path, name, "header entry is not an object");
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafeTensorsException(path, name, "missing or non-string 'dtype'");
        string dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParse(dtypeName, out var dtype))
            throw new SafeTensorsException(path, name, $"unsupported dtype '{dtypeName}' (supported: F32, F16, BF16)");
        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsException(path, name, "missing or non-array 'shape'");
        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long value) || value < 0)
                throw new SafeTensorsException(path, name, $"shape entry {d} is not a non-negative integer");
            shape[d++] = value;
            if (value != 0 && elements > long.MaxValue / 8 / value)
                throw new SafeTensorsException(path, name, "shape is too large");
            elements *= value;
        }
        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new SafeTensorsException(path, name, "missing 'data_offsets' [begin, end]");
        long begin = ReadOffset(path, name, offsets[0]), end = ReadOffset(path, name, offsets[1]);
        if (begin > end) throw new SafeTensorsException(path, name, $"data_offsets begin {begin} is after end {end}");
        if (end > dataLength) throw new SafeTensorsException(path, name, $"data_offsets end {end} lies past the data area ({dataLength} bytes): file truncated?");
        long expected = elements * dtype.Size();
        if (end - begin != expected)
            throw new SafeTensorsException(path, name, $"holds {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected}");
        return new TensorInfo(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static long ReadOffset(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value) || value < 0)
            throw new SafeTensorsException(path, name, "data_offsets entry is not a non-negative integer");
        return value;
    }

    /// <summary>Describes <paramref name="name"/>, or throws naming the file and tensor.</summary>
    public TensorInfo Get(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new SafeTensorsException(Path, name, "tensor not found");

    /// <summary>The raw bytes of a tensor: a zero-copy view valid until this file is disposed.</summary>
    public ReadOnlySpan<byte> GetBytes(TensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<byte>(_base + info.Offset, checked((int)info.ByteLength));
    }

    /// <summary>
    /// Drops a tensor's pages from this process's resident set once it has been copied out, so that loading a model
    /// does not hold the mapped file beside the copy: the Qwen2.5-0.5B shape's load peaked at 1,986 MB with both
    /// resident. The pages stay in the page cache; a later <see cref="GetBytes"/> faults them back.
    /// </summary>
    public void DropResidentPages(TensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        LeadEngine.Kernels.HostPages.Release((nint)(_base + info.Offset), info.ByteLength);
    }

    /// <summary>A tensor widened to fp32 (a copy).</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Get(name);
        var result = new float[info.ElementCount];
        TensorDTypes.ToFloat32(info.DType, GetBytes(info), result);
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
