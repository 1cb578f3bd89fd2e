using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// Softmax cross-entropy over full-vocabulary logits, forward and backward in one pass and in place: per row,
/// <c>loss = logsumexp(z) − z[target]</c>, and the row is overwritten by <c>scale·(softmax(z) − onehot(target))</c>.
/// </summary>
public static class CrossEntropyKernels
{
    /// <summary>
    /// Runs the fused loss and gradient over <paramref name="rows"/> rows of <paramref name="vocab"/>
    /// logits: <paramref name="losses"/>[b] receives row b's cross-entropy, the logits its scaled gradient.
    /// Targets must lie in [0, vocab) (checked by the caller, on the host).
    /// </summary>
    public static void LaunchForwardBackward(ComputeDevice device, ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, int rows, int vocab, float scale)
    {
        using var timer = device.Time("crossentropy", 6.0 * rows * vocab, 12.0 * rows * vocab);
        device.Backend.CrossEntropy(logits, targets, losses, rows, vocab, scale);
    }
}
