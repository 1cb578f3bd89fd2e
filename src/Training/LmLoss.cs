using LeadEngine.Engine;
using LeadEngine.Kernels;
namespace LeadEngine.Training;

/// <summary>
/// The LM (semantic) loss: mean cross-entropy over the full vocabulary of the logits at the last
/// real token, target the Yes token for converted leads and the No token otherwise. The training
/// pass evaluates it on the device (<see cref="CrossEntropyKernels"/>), so the logits, [batch, vocab],
/// never travel to the host and back.
/// </summary>
public static class LmLoss
{
    /// <summary>
    /// Evaluates the loss on <paramref name="pass"/> and leaves <paramref name="weight"/>·dLoss/dlogits there for
    /// its backward pass.
    /// </summary>
    public static double Evaluate(TrainingPass pass, IReadOnlyList<int> labels, int yesTokenId, int noTokenId, double weight)
    {
        var targets = labels.Select(label => label == 1 ? yesTokenId : noTokenId).ToArray();
        var rowLosses = pass.LanguageModelLoss(targets, (float)(weight / targets.Length));
        return rowLosses.Sum(loss => (double)loss) / targets.Length;
    }
}
