using LeadEngine.Engine;
using LeadEngine.Training;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests;

/// <summary>The BCE + HPRO + LM objective and every gradient against golden.json (rel. error ≤ 1e-4).</summary>
public class GoldenObjectiveTests(ITestOutputHelper output)
{
    /// <summary>Both models on every test device, and activation recomputation on one model per device.</summary>
    public static IEnumerable<object[]> Cases() => Fixtures.Backends().SelectMany(b => new object[][]
    {
        ["tiny-qwen2-gqa-tied", b[0], false], ["tiny-qwen15-mha-untied", b[0], false],
        [(string)b[0] == "simd" ? "tiny-qwen15-mha-untied" : "tiny-qwen2-gqa-tied", b[0], true],
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossesAndGradientsMatchGolden(string name, string backend, bool recompute)
    {
        var device = Fixtures.Backend(backend);
        string dir = Fixtures.ModelDir(name);
        var golden = GoldenBatchFile.Read(Path.Combine(dir, "golden.json"));
        var expected = Fixtures.Golden(name).GetProperty("objective");
        using var model = QwenModel.Load(dir, device);
        string file = Path.Combine(dir, "adapter_and_heads.safetensors");
        using var adapter = LoraAdapter.Load(file, model.Config, device, golden.LoraAlpha);
        using var heads = ScoreHeads.Load(file, model.Config, device);
        Assert.Equal(golden.LoraRank, adapter.Rank);

        var losses = new LeadObjective(golden.Weights).Evaluate(model, adapter, heads, golden.Batch, backward: true, recompute);
        var loss = expected.GetProperty("loss");
        foreach (var (term, value) in new[] { ("bce", losses.Bce), ("hpro", losses.Hpro), ("lm", losses.Lm), ("total", losses.Total) })
        {
            double want = loss.GetProperty(term).GetDouble();
            Assert.True(Math.Abs(value - want) <= 1e-4 * Math.Abs(want), $"{name} {term}: {value} vs golden {want}");
        }
        double worst = 0;
        int tensors = 0;
        foreach (var grad in expected.GetProperty("grad").EnumerateObject())
        {
            var want = Fixtures.Floats(grad.Value.GetProperty("values"));
            var set = grad.Name.StartsWith("score.", StringComparison.Ordinal) ? heads.Parameters : adapter.Parameters;
            var entry = set.Find(grad.Name) ?? throw new Xunit.Sdk.XunitException($"no trainable tensor {grad.Name}");
            var got = set.ReadGradient(entry);
            if (want.All(v => v == 0))
            {
                // HPRO sees only score differences, so d(pairwise bias) is exactly zero: relative error is
                // undefined there; the float result must vanish to rounding.
                Assert.True(got.All(v => Math.Abs(v) <= 1e-6), $"{name} d{grad.Name}: expected 0, got {got.Max(Math.Abs)}");
            }
            else
            {
                worst = Math.Max(worst, Close.Check(want, got, 1e-4, $"{name} d{grad.Name}"));
            }
            tensors++;
        }
        Assert.Equal(adapter.Parameters.Entries.Count + heads.Parameters.Entries.Count, tensors);

        // Again on the device's pooled (now dirty) buffers: the same losses and gradients, bit for bit.
        var first = adapter.Parameters.ReadAllGradients();
        adapter.Parameters.ZeroGradients();
        heads.Parameters.ZeroGradients();
        var again = new LeadObjective(golden.Weights).Evaluate(model, adapter, heads, golden.Batch, backward: true, recompute);
        Assert.Equal(losses.Total, again.Total);
        Assert.Equal(first, adapter.Parameters.ReadAllGradients());
        output.WriteLine($"{name} ({backend}, recompute {recompute}): {tensors} gradient tensors, worst relative error {worst:E2}");
    }
}
