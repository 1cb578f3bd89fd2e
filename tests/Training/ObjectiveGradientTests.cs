using LeadEngine.Engine;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Tests.Kernels;
using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Training;

/// <summary>
/// The whole objective's gradient on shapes the golden fixtures do not cover, checked by central
/// differences of the total loss with respect to sampled LoRA and head parameters.
/// </summary>
public sealed class ObjectiveGradientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-objgrad-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData(1, 3, "q_proj,v_proj,down_proj", 0)]
    [InlineData(2, 5, "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", 0)]
    [InlineData(2, 3, "q_proj,v_proj", 4)]
    public void GradientMatchesFiniteDifferences(int kvHeads, int rank, string targets, int featureCount)
    {
        var config = new QwenConfig { HiddenSize = 32, Layers = 2, Heads = 4, KvHeads = kvHeads, IntermediateSize = 40, VocabSize = 50, RopeTheta = 1e4 };
        SyntheticModel.Write(_dir, config, TensorDType.F32, seed: 11);
        using var model = QwenModel.Load(_dir, Fixtures.Simd);
        using var adapter = LoraAdapter.Create(config, Fixtures.Simd, rank, alpha: 2 * rank, targets.Split(',').Select(LoraAdapter.ParseTarget), seed: 3);
        using var heads = ScoreHeads.Create(config, Fixtures.Simd, seed: 4, featureCount);
        // Non-zero feature weights, so the features move the scores and with them every other gradient.
        if (featureCount > 0) heads.Parameters.WriteAllValues(KernelTestData.Random((int)heads.Parameters.Count, 13, 0.5f));
        // Non-zero B so every LoRA tensor has a gradient.
        adapter.Parameters.WriteAllValues(KernelTestData.Random((int)adapter.Parameters.Count, 12, 0.3f));
        var batch = new ObjectiveBatch
        {
            Sequences = [[1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12, 13, 14]],
            Labels = [1, 0, 0],
            Pairs = [new(0, 1, 0), new(2, 1, 1), new(0, 2, 2)],
            YesTokenId = 3,
            NoTokenId = 4,
            Features = featureCount == 0 ? null : Enumerable.Range(0, 3).Select(b => KernelTestData.Random(featureCount, 20 + b)).ToArray(),
        };
        var objective = new LeadObjective(new LossWeights());
        objective.Evaluate(model, adapter, heads, batch);
        foreach (var set in new[] { adapter.Parameters, heads.Parameters })
        {
            var values = set.ReadAllValues();
            var grads = set.ReadAllGradients();
            BackwardKernelTests.FiniteDifference($"{set.Group} kv{kvHeads} r{rank} f{featureCount}", values, v =>
            {
                set.WriteAllValues(v);
                return objective.Evaluate(model, adapter, heads, batch, backward: false).Total;
            }, grads, samples: featureCount > 0 && set == heads.Parameters ? (int)set.Count : 16, eps: 1e-2f, tolerance: 2e-2);
            set.WriteAllValues(values);
        }
    }
}
