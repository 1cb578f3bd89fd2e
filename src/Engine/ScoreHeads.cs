using ILGPU;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>
/// The pointwise and pairwise score heads: weights [2, H] on the final hidden state, biases [2] and,
/// for wide-and-deep heads, weights [2, F] on F structured features of the lead
/// (<c>score.features.weight</c>; row 0 pointwise, row 1 pairwise), trained at the heads' rate.
/// </summary>
public sealed class ScoreHeads : IDisposable
{
    /// <summary>Tensor names in layout order (the feature weights, when present, come last).</summary>
    public static readonly string[] Names = ["score.pointwise.weight", "score.pairwise.weight", "score.pointwise.bias", "score.pairwise.bias"];

    /// <summary>Name of the structured-feature weights [2, F].</summary>
    public const string FeatureWeightName = "score.features.weight";

    private readonly int _hidden;

    /// <summary>The device tensors and their gradients.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The device holding the heads.</summary>
    public ComputeDevice Device => Parameters.Device;

    /// <summary>Structured features per lead the heads read beside the hidden state (0: none).</summary>
    public int FeatureCount { get; }

    /// <summary>Weights [2, H]: row 0 pointwise, row 1 pairwise.</summary>
    public ArrayView<float> Weight => Parameters.Values.SubView(0, 2L * _hidden);

    /// <summary>Biases [2].</summary>
    public ArrayView<float> Bias => Parameters.Values.SubView(2L * _hidden, 2);

    /// <summary>Feature weights [2, F]; empty without features.</summary>
    public ArrayView<float> FeatureWeight => FeatureCount == 0 ? ArrayView<float>.Empty : Parameters.Values.SubView(2L * _hidden + 2, 2L * FeatureCount);

    /// <summary>Gradient of <see cref="Weight"/>.</summary>
    public ArrayView<float> WeightGradient => Parameters.Gradients.SubView(0, 2L * _hidden);

    /// <summary>Gradient of <see cref="Bias"/>.</summary>
    public ArrayView<float> BiasGradient => Parameters.Gradients.SubView(2L * _hidden, 2);

    /// <summary>Gradient of <see cref="FeatureWeight"/>; empty without features.</summary>
    public ArrayView<float> FeatureWeightGradient => FeatureCount == 0 ? ArrayView<float>.Empty : Parameters.Gradients.SubView(2L * _hidden + 2, 2L * FeatureCount);

    private ScoreHeads(ComputeDevice device, int hidden, float[] pointwise, float[] pairwise, float pointwiseBias, float pairwiseBias, float[] featureWeight)
    {
        _hidden = hidden;
        FeatureCount = featureWeight.Length / 2;
        var tensors = new List<(string, long[], float[])>
        {
            (Names[0], [1, hidden], pointwise), (Names[1], [1, hidden], pairwise),
            (Names[2], [1], [pointwiseBias]), (Names[3], [1], [pairwiseBias]),
        };
        if (FeatureCount > 0) tensors.Add((FeatureWeightName, [2, FeatureCount], featureWeight));
        Parameters = new ParameterSet(device, ParameterGroup.Heads, tensors);
    }

    /// <summary>
    /// Fresh heads: hidden-state weights uniform in ±1/√H (as torch's Linear), biases zero, and
    /// <paramref name="featureCount"/> feature weights per head at zero (training starts from the LLM alone).
    /// </summary>
    public static ScoreHeads Create(QwenConfig config, ComputeDevice device, int seed, int featureCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(featureCount);
        var rng = new Random(seed);
        int h = config.HiddenSize;
        float bound = 1f / MathF.Sqrt(h);
        float[] Init() => Enumerable.Range(0, h).Select(_ => (float)(rng.NextDouble() * 2 - 1) * bound).ToArray();
        return new ScoreHeads(device, h, Init(), Init(), 0f, 0f, new float[2 * featureCount]);
    }

    /// <summary>Loads the heads from a .safetensors file, checking shapes against <paramref name="config"/>.</summary>
    public static ScoreHeads Load(string file, QwenConfig config, ComputeDevice device)
    {
        using var tensors = SafeTensorFile.Open(file);
        int h = config.HiddenSize;
        foreach (var head in new[] { "pointwise", "pairwise" })
        {
            tensors.Get($"score.{head}.weight").ExpectShape(file, [1, h]);
            tensors.Get($"score.{head}.bias").ExpectShape(file, [1]);
        }
        float[] featureWeight = [];
        if (tensors.Tensors.TryGetValue(FeatureWeightName, out var info))
        {
            if (info.Shape.Length != 2 || info.Shape[0] != 2 || info.Shape[1] < 1)
                throw new SafeTensorsException(file, FeatureWeightName, $"shape {info.ShapeText} but feature weights are [2, F] with F ≥ 1");
            featureWeight = tensors.ReadFloat32(FeatureWeightName);
        }
        return new ScoreHeads(device, h, tensors.ReadFloat32("score.pointwise.weight"), tensors.ReadFloat32("score.pairwise.weight"),
            tensors.ReadFloat32("score.pointwise.bias")[0], tensors.ReadFloat32("score.pairwise.bias")[0], featureWeight);
    }

    /// <inheritdoc />
    public void Dispose() => Parameters.Dispose();
}
