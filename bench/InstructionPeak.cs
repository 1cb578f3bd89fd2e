using System.Diagnostics;
using Iced.Intel;
using System.Runtime.Intrinsics.X86;
using LeadEngine.Kernels;
using static Iced.Intel.AssemblerRegisters;

namespace LeadEngine.Bench;

/// <summary>The arithmetic instruction a precision's matrix products are made of, on this CPU.</summary>
public enum InstructionMix
{
    /// <summary>fp32 <c>vfmadd231ps</c>: on zmm 16 lanes × 2 = 32 FLOP per instruction (on ymm, where the CPU lacks AVX-512, 16).</summary>
    F32Fma,
    /// <summary>AVX-512 BF16 <c>vdpbf16ps zmm</c>: 16 lanes × 2 products × 2 = 64 FLOP.</summary>
    Bf16Dot,
    /// <summary>AVX-512 VNNI <c>vpdpbusd zmm</c>: 16 lanes × 4 products × 2 = 128 integer operations.</summary>
    Int8Dot,
}

/// <summary>
/// The measured peak of an instruction mix: a run-time assembled loop of twelve independent accumulators (enough to
/// cover the latency at full throughput) on every thread at once, with no memory traffic; the best of five runs. What a
/// matrix product reaches is reported against this, the ceiling for its instruction on this machine as it is today
/// (clock, neighbours on the VM), rather than against a datasheet.
/// </summary>
internal static unsafe class InstructionPeak
{
    private const int Accumulators = 12, Iterations = 4_000_000;

    private static readonly bool s_wide = Avx512F.IsSupported;

    /// <summary>FLOP (or integer operations) per instruction of <paramref name="mix"/>.</summary>
    public static int OpsPerInstruction(InstructionMix mix) => mix switch
    {
        InstructionMix.F32Fma => s_wide ? 32 : 16,
        InstructionMix.Bf16Dot => 64,
        _ => 128,
    };

    /// <summary>The instruction mix of a precision's products (LeadEngine's or a peer's).</summary>
    public static InstructionMix Of(string precision) => precision switch
    {
        "bf16" => InstructionMix.Bf16Dot,
        "int8" => InstructionMix.Int8Dot,
        _ => InstructionMix.F32Fma,
    };

    /// <summary>GFLOP/s (or GOP/s) of <paramref name="mix"/> on <paramref name="threads"/> threads, or null where it cannot be assembled or the CPU lacks it.</summary>
    public static double? Measure(InstructionMix mix, int threads)
    {
        bool supported = mix switch
        {
            InstructionMix.Bf16Dot => ReducedGemm.HasBf16Instruction,
            InstructionMix.Int8Dot => ReducedGemm.HasInt8Instruction,
            _ => Fma.IsSupported,
        };
        if (!supported || Assemble(mix) is not { } address) return null;
        var loop = (delegate* unmanaged[Cdecl]<long, void>)address;
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => loop(Iterations));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (double)threads * Iterations * Accumulators * OpsPerInstruction(mix) / best / 1e9;
    }

    /// <summary>rdi = iterations; each iteration one instruction into each of zmm0..zmm11 (ymm for fp32 without AVX-512) from zmm12 and zmm13 (zeros).</summary>
    private static IntPtr? Assemble(InstructionMix mix)
    {
        var c = new Assembler(64);
        AssemblerRegisterZMM[] acc = [zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11];
        AssemblerRegisterYMM[] narrow = [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11];
        if (!s_wide)
            foreach (var register in narrow.Append(ymm12).Append(ymm13)) c.vxorps(register, register, register);
        else
            foreach (var register in acc.Append(zmm12).Append(zmm13)) c.vxorps(register, register, register);
        var loop = c.CreateLabel();
        c.Label(ref loop);
        for (int i = 0; i < Accumulators; i++)
        {
            switch (mix)
            {
                case InstructionMix.F32Fma when !s_wide: c.vfmadd231ps(narrow[i], ymm12, ymm13); break;
                case InstructionMix.F32Fma: c.vfmadd231ps(acc[i], zmm12, zmm13); break;
                case InstructionMix.Bf16Dot: c.vdpbf16ps(acc[i], zmm12, zmm13); break;
                default: c.vpdpbusd(acc[i], zmm12, zmm13); break;
            }
        }
        c.dec(rdi);
        c.jnz(loop);
        c.vzeroupper();
        c.ret();
        return ExecutableCode.Create(c);
    }
}
