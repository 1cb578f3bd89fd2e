using Google.Protobuf;

namespace LeadEngine.Engine.Onnx;

/// <summary>
/// Builds an ONNX <c>ModelProto</c> by hand with Google.Protobuf's wire writer (field numbers from
/// onnx.proto; no generated classes). Large initializers go to an external data file beside the
/// model, as ONNX requires past 2 GB and as ONNX Runtime loads them (memory-mapped).
/// </summary>
internal sealed class OnnxWriter : IDisposable
{
    /// <summary>ONNX <c>TensorProto.DataType</c> values used here.</summary>
    public enum DataType { Float = 1, Int64 = 7 }

    private const int ExternalThreshold = 1024;
    private readonly List<byte[]> _nodes = [], _initializers = [], _inputs = [], _outputs = [];
    private readonly FileStream _data;
    private readonly string _dataName;
    private int _counter;

    /// <summary>Starts a model whose external data go to <paramref name="dataPath"/>.</summary>
    public OnnxWriter(string dataPath)
    {
        _data = File.Create(dataPath);
        _dataName = Path.GetFileName(dataPath);
    }

    /// <summary>A fresh value name with <paramref name="hint"/> in it.</summary>
    public string Name(string hint) => $"{hint}_{_counter++}";

    /// <summary>Adds a node; returns its first output's name (a fresh one unless <paramref name="output"/> is given).</summary>
    public string Node(string op, string[] inputs, string? output = null, params (string Name, object Value)[] attributes)
    {
        output ??= Name(op.ToLowerInvariant());
        _nodes.Add(Message(w =>
        {
            foreach (var input in inputs) String(w, 1, input);
            String(w, 2, output);
            String(w, 3, output + "_node");
            String(w, 4, op);
            foreach (var (name, value) in attributes) Nested(w, 5, Attribute(name, value));
        }));
        return output;
    }

    /// <summary>An fp32 initializer.</summary>
    public string Initializer(string name, long[] dims, ReadOnlySpan<float> values) =>
        Initializer(name, dims, DataType.Float, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    /// <summary>An int64 initializer.</summary>
    public string Initializer(string name, long[] dims, ReadOnlySpan<long> values) =>
        Initializer(name, dims, DataType.Int64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    private string Initializer(string name, long[] dims, DataType type, ReadOnlySpan<byte> bytes)
    {
        long offset = -1;
        if (bytes.Length > ExternalThreshold)
        {
            offset = _data.Position;
            _data.Write(bytes);
        }
        var raw = offset < 0 ? ByteString.CopyFrom(bytes) : ByteString.Empty;
        int length = bytes.Length;
        _initializers.Add(Message(w =>
        {
            foreach (long d in dims) Int64(w, 1, d);
            Int64(w, 2, (long)type);
            String(w, 8, name);
            if (offset < 0)
            {
                w.WriteTag(9, WireFormat.WireType.LengthDelimited);
                w.WriteBytes(raw);
                return;
            }
            foreach (var (key, value) in new[] { ("location", _dataName), ("offset", offset.ToString()), ("length", length.ToString()) })
                Nested(w, 13, Message(e => { String(e, 1, key); String(e, 2, value); }));
            Int64(w, 14, 1); // data_location = EXTERNAL
        }));
        return name;
    }

    /// <summary>A graph input or output: element type and dims (a string names a symbolic dim).</summary>
    public void Input(string name, DataType type, params object[] dims) => _inputs.Add(ValueInfo(name, type, dims));

    /// <inheritdoc cref="Input"/>
    public void Output(string name, DataType type, params object[] dims) => _outputs.Add(ValueInfo(name, type, dims));

    /// <summary>Writes the model file (opset 17, IR version 8).</summary>
    public void Save(string path, string graphName)
    {
        var graph = Message(w =>
        {
            foreach (var node in _nodes) Nested(w, 1, node);
            String(w, 2, graphName);
            foreach (var init in _initializers) Nested(w, 5, init);
            foreach (var input in _inputs) Nested(w, 11, input);
            foreach (var output in _outputs) Nested(w, 12, output);
        });
        var model = Message(w =>
        {
            Int64(w, 1, 8);
            String(w, 2, "LeadEngine");
            String(w, 3, "1.0");
            Nested(w, 7, graph);
            Nested(w, 8, Message(o => { String(o, 1, ""); Int64(o, 2, 17); }));
        });
        _data.Flush();
        AtomicFile.WriteAllBytes(path, model);
    }

    /// <inheritdoc />
    public void Dispose() => _data.Dispose();

    private static byte[] ValueInfo(string name, DataType type, object[] dims) => Message(w =>
    {
        String(w, 1, name);
        var shape = Message(s =>
        {
            foreach (var dim in dims)
                Nested(s, 1, Message(d =>
                {
                    if (dim is string symbol) String(d, 2, symbol);
                    else Int64(d, 1, Convert.ToInt64(dim));
                }));
        });
        var tensorType = Message(t => { Int64(t, 1, (long)type); Nested(t, 2, shape); });
        Nested(w, 2, Message(t => Nested(t, 1, tensorType)));
    });

    private static byte[] Attribute(string name, object value) => Message(w =>
    {
        String(w, 1, name);
        switch (value)
        {
            case float f:
                w.WriteTag(2, WireFormat.WireType.Fixed32);
                w.WriteFloat(f);
                Int64(w, 20, 1);
                break;
            case int or long:
                Int64(w, 3, Convert.ToInt64(value));
                Int64(w, 20, 2);
                break;
            case long[] ints:
                foreach (long i in ints) Int64(w, 8, i);
                Int64(w, 20, 7);
                break;
            default:
                throw new ArgumentException($"unsupported ONNX attribute value {value.GetType().Name} for {name}");
        }
    });

    private static byte[] Message(Action<CodedOutputStream> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new CodedOutputStream(stream, leaveOpen: true)) body(writer);
        return stream.ToArray();
    }

    private static void String(CodedOutputStream w, int field, string value)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteString(value);
    }

    private static void Int64(CodedOutputStream w, int field, long value)
    {
        w.WriteTag(field, WireFormat.WireType.Varint);
        w.WriteInt64(value);
    }

    private static void Nested(CodedOutputStream w, int field, byte[] message)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(message));
    }
}
