using LeadEngine.Kernels;

namespace LeadEngine.Bench;

/// <summary>
/// <c>ptx --out DIR</c>: writes the PTX of every kernel the CUDA backend launches (<see cref="IlgpuPtx"/>), one
/// <c>NAME.ptx</c> each, and <c>kernels.tsv</c> (name, threads per group at the GPU launch shapes, 0: picked on the device;
/// dynamic shared bytes per group),
/// for <c>scripts/ptx-check.sh</c> to assemble with <c>ptxas</c>.
/// </summary>
internal static class PtxExport
{
    public static int Run(string[] args)
    {
        if (args.Length != 2 || args[0] != "--out")
        {
            Console.Error.WriteLine("usage: ptx --out DIR");
            return 2;
        }
        string dir = args[1];
        Directory.CreateDirectory(dir);
        var kernels = IlgpuPtx.Generate();
        foreach (var kernel in kernels) File.WriteAllText(Path.Combine(dir, kernel.Name + ".ptx"), kernel.Ptx);
        File.WriteAllLines(Path.Combine(dir, "kernels.tsv"), kernels.Select(k => $"{k.Name}\t{k.GroupThreads}\t{k.DynamicSharedBytes}"));
        Console.WriteLine($"{kernels.Count} kernels (sm_90, PTX ISA 7.8) in {dir}");
        return 0;
    }
}
