using LeadEngine.Training;
using System.Globalization;

namespace LeadEngine.Cli;

/// <summary>What the training commands share.</summary>
internal static class TrainingArgs
{
    /// <summary>Parses <c>--loss-weights bce,hpro,lm</c>.</summary>
    internal static LossWeights ParseWeights(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new UsageException($"--loss-weights must be three numbers bce,hpro,lm; got '{text}'");
        var w = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new LossWeights(w[0], w[1], w[2]);
    }
}
