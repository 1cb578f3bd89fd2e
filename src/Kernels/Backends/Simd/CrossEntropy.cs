using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, int rows, int vocab, float scale)
    {
        var (lh, th, lossH) = (Host(logits), Host(targets), Host(losses));
        CoreTeam.For(rows, b =>
        {
            long row = (long)b * vocab;
            float max = System.Numerics.Tensors.TensorPrimitives.Max(lh.Slice(row, vocab)), targetLogit = lh[row + th[b]];
            // fp32 sums over 4,096 values at a time, added in fp64: the vocabulary is 150k terms.
            double total = 0;
            for (int i = 0; i < vocab; i += 4096) total += SimdMath.ExpShiftedSum(lh.Slice(row + i, Math.Min(4096, vocab - i)), max);
            lossH[b] = (float)(max + Math.Log(total) - targetLogit);
            System.Numerics.Tensors.TensorPrimitives.Multiply(lh.Slice(row, vocab), (float)(scale / total), lh.Slice(row, vocab));
            lh[row + th[b]] -= scale;
        });
    }
}
