using System.Runtime.InteropServices;
using Iced.Intel;

namespace LeadEngine.Kernels;

/// <summary>
/// Machine code assembled at run time (Iced, a C# x86 assembler) into executable memory: the way oneDNN builds CPU
/// kernels with Xbyak, for instructions .NET has no intrinsic for (AVX-512 BF16's <c>vdpbf16ps</c>, 512-bit <c>vpdpbusd</c>). The memory comes
/// from libc's <c>mmap</c> (read+write), is filled, then switched to read+execute with <c>mprotect</c>; it lives as long
/// as the process (kernels are built once). Linux x64 only: elsewhere <see cref="Create"/> returns null and callers use
/// their managed code.
/// </summary>
internal static class ExecutableCode
{
    private const int ProtectRead = 1, ProtectWrite = 2, ProtectExecute = 4, MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>The address of <paramref name="assembler"/>'s code in executable memory, or null where this cannot be done.</summary>
    public static unsafe IntPtr? Create(Assembler assembler)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        var writer = new ByteWriter();
        assembler.Assemble(writer, 0); // position-independent: only relative jumps
        nuint length = (nuint)writer.Bytes.Count;
        IntPtr memory = mmap(IntPtr.Zero, length, ProtectRead | ProtectWrite, MapPrivate | MapAnonymous, -1, 0);
        if (memory == new IntPtr(-1)) return null;
        writer.Bytes.ToArray().CopyTo(new Span<byte>((void*)memory, (int)length));
        return mprotect(memory, length, ProtectRead | ProtectExecute) == 0 ? memory : null;
    }

    private sealed class ByteWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr mmap(IntPtr address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(IntPtr address, nuint length, int protection);
}
