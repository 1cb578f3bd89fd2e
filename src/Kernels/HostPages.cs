using System.Runtime.InteropServices;

namespace LeadEngine.Kernels;

/// <summary>
/// Hands host memory's pages back to the system while keeping the address range: <c>madvise(MADV_DONTNEED)</c> on
/// the whole pages inside a range. Anonymous memory reads as zeros afterwards, so only a buffer nothing reads again
/// may be released (<see cref="ComputeDevice.ScoringOnly"/>); a read-only file mapping reads the file again.
/// </summary>
public static unsafe partial class HostPages
{
    private const int DontNeed = 4;
    private static readonly nuint PageMask = (nuint)Environment.SystemPageSize - 1;

    /// <summary>Releases the whole pages of [<paramref name="address"/>, +<paramref name="bytes"/>); false where that is not possible (not Linux, or refused).</summary>
    public static bool Release(nint address, long bytes)
    {
        if (!OperatingSystem.IsLinux()) return false;
        // Inward to whole pages: a page shared with a neighbouring buffer keeps its contents.
        nuint start = ((nuint)address + PageMask) & ~PageMask, end = ((nuint)address + (nuint)bytes) & ~PageMask;
        return end <= start || Madvise((void*)start, end - start, DontNeed) == 0;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
