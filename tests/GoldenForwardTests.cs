using LeadEngine.Engine;
using Xunit;

namespace LeadEngine.Tests;

/// <summary>The forward pass against golden.json (float32 reference, rel. error ≤ 1e-4).</summary>
public class GoldenForwardTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static IEnumerable<object[]> Cases() =>
        Fixtures.Backends().SelectMany(b => Fixtures.Models.Select(m => new object[] { m, b[0] }));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BaseForwardMatchesGolden(string name, string backend)
    {
        var device = Fixtures.Backend(backend);
        var golden = Fixtures.Golden(name);
        var expected = golden.GetProperty("base");
        using var model = QwenModel.Load(Fixtures.ModelDir(name), device);
        var sequences = Fixtures.Sequences(golden);
        var result = model.Forward(sequences, new ForwardOptions { CaptureLayers = true });

        var hidden = Fixtures.Rows(expected.GetProperty("last_hidden"));
        var logits = Fixtures.Rows(expected.GetProperty("last_logits"));
        double worst = 0;
        for (int b = 0; b < sequences.Length; b++)
        {
            worst = Math.Max(worst, Close.Check(hidden[b], result.LastHidden[b], Tolerance, $"{name} last_hidden[{b}]"));
            worst = Math.Max(worst, Close.Check(logits[b], result.LastLogits[b], Tolerance, $"{name} last_logits[{b}]"));
        }
        // Without captured layers the last layer runs its o_proj and MLP on the last tokens alone.
        var lastTokens = model.Forward(sequences);
        for (int b = 0; b < sequences.Length; b++)
        {
            worst = Math.Max(worst, Close.Check(hidden[b], lastTokens.LastHidden[b], Tolerance, $"{name} last-token path last_hidden[{b}]"));
            worst = Math.Max(worst, Close.Check(logits[b], lastTokens.LastLogits[b], Tolerance, $"{name} last-token path last_logits[{b}]"));
        }
        int h = model.Config.HiddenSize, len0 = sequences[0].Length;
        var residuals = Fixtures.Rows(expected.GetProperty("layer_residual_seq0"));
        for (int layer = 0; layer < residuals.Length; layer++)
            worst = Math.Max(worst, Close.Check(residuals[layer], result.LayerResiduals![layer].AsSpan(0, len0 * h), Tolerance, $"{name} residual layer {layer}"));
        var finalHidden = Fixtures.Floats(expected.GetProperty("final_hidden_seq0"));
        worst = Math.Max(worst, Close.Check(finalHidden, result.FinalHidden!.AsSpan(0, len0 * h), Tolerance, $"{name} final_hidden_seq0"));
        output.WriteLine($"{name} ({backend}): worst relative error {worst:E2} over hidden, logits, residuals");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LoraForwardAndHeadsMatchGolden(string name, string backend)
    {
        var device = Fixtures.Backend(backend);
        var golden = Fixtures.Golden(name);
        var objective = golden.GetProperty("objective");
        string dir = Fixtures.ModelDir(name);
        using var model = QwenModel.Load(dir, device);
        float alpha = objective.GetProperty("lora").GetProperty("alpha").GetSingle();
        string adapterFile = Path.Combine(dir, "adapter_and_heads.safetensors");
        using var adapter = LoraAdapter.Load(adapterFile, model.Config, device, alpha);
        using var heads = ScoreHeads.Load(adapterFile, model.Config, device);
        var sequences = Fixtures.Sequences(golden);
        int yes = objective.GetProperty("yes_token_id").GetInt32(), no = objective.GetProperty("no_token_id").GetInt32();
        var result = model.Forward(sequences, new ForwardOptions { Adapter = adapter, Heads = heads, LogitTokenIds = [yes, no] });

        var hidden = Fixtures.Rows(objective.GetProperty("last_hidden"));
        for (int b = 0; b < sequences.Length; b++)
            Close.Check(hidden[b], result.LastHidden[b], Tolerance, $"{name} LoRA last_hidden[{b}]");
        Close.Check(Fixtures.Floats(objective.GetProperty("pointwise_logit")), result.Heads!.PointwiseLogits, Tolerance, $"{name} pointwise");
        Close.Check(Fixtures.Floats(objective.GetProperty("pairwise_score")), result.Heads!.PairwiseScores, Tolerance, $"{name} pairwise");
        Assert.Equal(2, result.LastLogits[0].Length);
    }
}
