using System.Runtime.InteropServices;
using System.Text;

namespace LeadEngine.Engine;

/// <summary>
/// Writes a file so that a reader sees the old file or the whole new one, never half of it, and a
/// kill or power loss during the write leaves the old one: the bytes go to a temporary file in the
/// same folder, are flushed to disk, and the temporary file is renamed over the target (atomic on
/// POSIX file systems); the folder is then flushed so the rename itself survives a crash.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the file with what <paramref name="write"/> puts into the stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        FlushDirectory(directory);
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark).</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>Writes text through a UTF-8 writer (no byte-order mark).</summary>
    public static void WriteText(string path, Action<TextWriter> write) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        write(writer);
    });

    /// <summary>fsync of the folder: makes the rename durable. POSIX only (Windows renames are journaled by NTFS).</summary>
    private static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Posix.Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return; // a folder that cannot be opened (permissions) still got the rename
        try
        {
            Posix.FSync(fd);
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    private static class Posix
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
