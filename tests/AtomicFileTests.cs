using LeadEngine.Engine;

namespace LeadEngine.Tests;

/// <summary>Files written through <see cref="AtomicFile"/> are the old or the whole new one, never half.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        string path = Path.Combine(_dir, "adapter.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]);
            throw new IOException("disk full");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["adapter.bin"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ReadersNeverSeeHalfAFile()
    {
        // Each version is 4 MB of one repeated byte: a torn read would mix two values or be short.
        string path = Path.Combine(_dir, "state.bin");
        const int Size = 4 << 20;
        AtomicFile.WriteAllBytes(path, Enumerable.Repeat((byte)0, Size).ToArray());
        using var done = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int v = 1; v <= 20; v++) AtomicFile.WriteAllBytes(path, Enumerable.Repeat((byte)v, Size).ToArray());
            done.Cancel();
        });
        int reads = 0;
        while (!done.IsCancellationRequested)
        {
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(Size, bytes.Length);
            Assert.True(bytes.AsSpan().IndexOfAnyExcept(bytes[0]) < 0, "a read saw two versions of the file");
            reads++;
        }
        await writer;
        Assert.Equal(20, File.ReadAllBytes(path)[0]);
        Assert.True(reads > 0);
    }

    [Fact]
    public void AdapterFilesAreWrittenAtomically()
    {
        // The safetensors writer goes through AtomicFile: no temporary is left, and the target is whole.
        string path = Path.Combine(_dir, "t.safetensors");
        Engine.SafeTensors.SafeTensorWriter.Write(path, [Engine.SafeTensors.TensorData.FromFloats("w", [2], [1f, 2f])]);
        using var file = Engine.SafeTensors.SafeTensorFile.Open(path);
        Assert.Single(Directory.GetFiles(_dir));
    }
}
