using System.Text.Json;

namespace LeadEngine.Training;

/// <summary>
/// Reads batches in the format of <c>shared/reference/*/golden.json</c>: <c>input_ids</c> (right
/// padded), <c>lengths</c>, and under <c>objective</c> the labels, answer ids, pairs
/// <c>[better, worse, tier]</c>, tier margins, loss weights and LoRA rank/alpha.
/// </summary>
public static class GoldenBatchFile
{
    /// <summary>Parses <paramref name="path"/>; errors name the file and the field.</summary>
    public static GoldenBatch Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not well-formed JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement Field(JsonElement e, string name) =>
                e.TryGetProperty(name, out var v) ? v : throw new InvalidDataException($"{path}: missing field '{name}'");
            var lengths = Field(root, "lengths").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var rows = Field(root, "input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
            if (rows.Length != lengths.Length) throw new InvalidDataException($"{path}: {rows.Length} input_ids rows but {lengths.Length} lengths");
            for (int i = 0; i < rows.Length; i++)
            {
                if (lengths[i] < 1 || lengths[i] > rows[i].Length)
                    throw new InvalidDataException($"{path}: lengths[{i}] = {lengths[i]} does not fit input_ids row of {rows[i].Length}");
            }
            var objective = Field(root, "objective");
            var weights = Field(objective, "loss_weights");
            var lora = Field(objective, "lora");
            var batch = new ObjectiveBatch
            {
                Sequences = rows.Select((r, i) => r[..lengths[i]]).ToArray(),
                Labels = Field(objective, "labels").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                Pairs = Field(objective, "pairs_better_worse_tier").EnumerateArray()
                    .Select(p => new PreferencePair(p[0].GetInt32(), p[1].GetInt32(), p[2].GetInt32())).ToArray(),
                TierMargins = Field(objective, "tier_margins").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
                YesTokenId = Field(objective, "yes_token_id").GetInt32(),
                NoTokenId = Field(objective, "no_token_id").GetInt32(),
            };
            return new GoldenBatch(batch,
                new LossWeights(Field(weights, "bce").GetDouble(), Field(weights, "hpro").GetDouble(), Field(weights, "lm").GetDouble()),
                Field(lora, "rank").GetInt32(), Field(lora, "alpha").GetSingle());
        }
    }
}
