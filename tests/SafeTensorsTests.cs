using System.Text;
using LeadEngine.Engine.SafeTensors;

namespace LeadEngine.Tests;

/// <summary>The safetensors reader/writer: round trips, sharding, and every malformed-header case.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static TensorData[] Sample() =>
    [
        TensorData.FromFloats("a", [2, 3], [1, 2, 3, 4, 5, 6]),
        new("b", TensorDType.BF16, [2], [0x80, 0x3F, 0x00, 0xC0]), // 1.0, -2.0
        new("c", TensorDType.F16, [1], BitConverter.GetBytes((System.Half)0.5f)),
        TensorData.FromFloats("empty", [0, 4], []),
    ];

    private string WriteSample(string name = "model.safetensors")
    {
        string path = Path.Combine(_dir, name);
        SafeTensorWriter.Write(path, Sample(), new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    [Fact]
    public void RoundTripsEveryDType()
    {
        using var file = SafeTensorFile.Open(WriteSample());
        Assert.Equal([1f, 2, 3, 4, 5, 6], file.ReadFloat32("a"));
        Assert.Equal([1f, -2f], file.ReadFloat32("b"));
        Assert.Equal([0.5f], file.ReadFloat32("c"));
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal([2L, 3], file.Get("a").Shape);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(0, (file.Get("a").Offset - 8) % 8);
    }

    /// <summary>A tensor whose pages were dropped after its copy reads the same again (the mapping faults them back from the file).</summary>
    [Fact]
    public void DroppedPagesReadBackFromTheFile()
    {
        var values = Enumerable.Range(0, 5000).Select(i => (float)Math.Sin(i)).ToArray(); // ~20 KB: whole pages to drop
        string path = Path.Combine(_dir, "pages.safetensors");
        SafeTensorWriter.Write(path, [TensorData.FromFloats("w", [5000], values), TensorData.FromFloats("after", [2], [1, 2])]);
        using var file = SafeTensorFile.Open(path);
        Assert.Equal(values, file.ReadFloat32("w"));
        file.DropResidentPages(file.Get("w"));
        Assert.Equal(values, file.ReadFloat32("w"));
        Assert.Equal([1f, 2], file.ReadFloat32("after"));
    }

    [Fact]
    public void ShardedIndexResolvesEachTensor()
    {
        SafeTensorWriter.Write(Path.Combine(_dir, "model-00001-of-00002.safetensors"), [TensorData.FromFloats("x", [1], [7])]);
        SafeTensorWriter.Write(Path.Combine(_dir, "model-00002-of-00002.safetensors"), [TensorData.FromFloats("y", [2], [8, 9])]);
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"),
            """{"metadata":{},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}}""");
        using var store = SafeTensorStore.Open(_dir);
        Assert.Equal([7f], store.ReadFloat32("x"));
        Assert.Equal([8f, 9], store.ReadFloat32("y"));
        var e = Assert.Throws<SafeTensorsException>(() => store.Get("z"));
        Assert.Equal("z", e.TensorName);
    }

    private string WriteRaw(string header, int dataBytes, long? declaredLength = null)
    {
        string path = Path.Combine(_dir, "raw.safetensors");
        var bytes = Encoding.UTF8.GetBytes(header);
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((ulong)(declaredLength ?? bytes.Length)));
        f.Write(bytes);
        f.Write(new byte[dataBytes]);
        return path;
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", 8, "unsupported dtype 'I64'")]
    [InlineData("""{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "past the data area")]
    [InlineData("""{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "after end")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", 8, "overlaps")]
    [InlineData("""{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "non-negative")]
    [InlineData("""{"t":{"shape":[1],"data_offsets":[0,4]}}""", 4, "dtype")]
    [InlineData("""{"t":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "shape")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1]}}""", 4, "data_offsets")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", 4, "not well-formed JSON")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, "twice")]
    public void MalformedHeaderNamesTheProblem(string header, int dataBytes, string expected)
    {
        string path = WriteRaw(header, dataBytes);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedAndOversizedHeaders()
    {
        string path = Path.Combine(_dir, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("truncated", Assert.Throws<SafeTensorsException>(() => SafeTensorFile.Open(path)).Message);
        Assert.Contains("truncated", Assert.Throws<SafeTensorsException>(() => SafeTensorFile.Open(WriteRaw("{}", 0, 1000))).Message);
        Assert.Contains("cap", Assert.Throws<SafeTensorsException>(() => SafeTensorFile.Open(WriteRaw("{}", 0, long.MaxValue))).Message);
        Assert.Contains("not found", Assert.Throws<SafeTensorsException>(() => SafeTensorFile.Open(Path.Combine(_dir, "nope"))).Message);
    }

    /// <summary>
    /// Hundreds of corrupted files: random byte flips in the header, random truncations, random
    /// header lengths. Each must open cleanly (and read back) or throw SafeTensorsException, nothing else.
    /// </summary>
    private const int Rounds = 2000;

    [Fact]
    public void FuzzedFilesFailOnlyWithSafeTensorsException()
    {
        var original = File.ReadAllBytes(WriteSample("seed.safetensors"));
        int headerEnd = 8 + (int)BitConverter.ToUInt64(original, 0);
        var rng = new Random(1234);
        string path = Path.Combine(_dir, "fuzz.safetensors");
        int rejected = 0, accepted = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var bytes = (byte[])original.Clone();
            switch (round % 4)
            {
                case 0: // flip bytes inside the JSON header
                    for (int i = rng.Next(1, 4); i > 0; i--) bytes[rng.Next(8, headerEnd)] = (byte)rng.Next(256);
                    break;
                case 1: // truncate anywhere
                    bytes = bytes[..rng.Next(0, bytes.Length)];
                    break;
                case 2: // random header length
                    BitConverter.GetBytes((ulong)rng.NextInt64(0, 2L * bytes.Length)).CopyTo(bytes, 0);
                    break;
                default: // replace a digit in the header (offsets and shapes)
                    var digits = Enumerable.Range(8, headerEnd - 8).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToArray();
                    bytes[digits[rng.Next(digits.Length)]] = (byte)('0' + rng.Next(10));
                    break;
            }
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = SafeTensorFile.Open(path);
                foreach (var name in file.Tensors.Keys) file.ReadFloat32(name);
                accepted++;
            }
            catch (SafeTensorsException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > Rounds / 2, $"only {rejected} of {Rounds} corrupted files were rejected");
        Assert.Equal(Rounds, rejected + accepted);
    }
}
