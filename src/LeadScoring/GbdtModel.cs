using LeadEngine.Engine;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms.Text;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Gradient-boosted trees (ML.NET LightGBM, one setting for every use: 200 trees, learning rate
/// 0.05, 15 leaves, 20 leads per leaf) on a lead's tabular columns (numbers as numbers, missing as
/// NaN; other columns one-hot over the categories seen in training, up to <see cref="MaxCategories"/>),
/// the dialogue as ML.NET's text features (word unigrams, TF-IDF-weighted, L2-normed) when
/// the training leads have any, and optional extra inputs per lead (the stacked model's LLM scores).
/// Used as the baselines of the eval table and, stacked on the LLM's scores, as a LeadEngine model.
/// Saved as <c>gbdt.zip</c> (the ML.NET pipeline) and <c>gbdt.json</c> (the column layout).
/// </summary>
public sealed class GbdtModel
{
    /// <summary>Most one-hot categories per column (the most frequent).</summary>
    public const int MaxCategories = 100;

    /// <summary>Leads per LambdaRank group: consecutive leads in time order, a day's worth of calls.</summary>
    public const int RankGroupSize = 100;

    private const string PipelineFile = "gbdt.zip", LayoutFile = "gbdt.json";

    /// <summary>The column layout, kept beside the pipeline.</summary>
    private sealed record Layout
    {
        [JsonPropertyName("columns")] public required ColumnLayout[] Columns { get; init; }
        [JsonPropertyName("text")] public bool Text { get; init; }
        [JsonPropertyName("extra_inputs")] public string[] ExtraInputs { get; init; } = [];
        [JsonPropertyName("objective")] public GbdtObjective Objective { get; init; }
        [JsonIgnore] public int Width => Math.Max(1, Columns.Sum(c => c.Categories?.Length ?? 1) + ExtraInputs.Length);
    }

    private sealed record ColumnLayout([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("categories")] string[]? Categories);

    private sealed class Row
    {
        public float[] Tabular { get; set; } = [];
        public string Text { get; set; } = "";
        public bool Label { get; set; }
        public float Relevance { get; set; }
        public uint Group { get; set; }
    }

    private sealed class Output
    {
        public float Score { get; set; }
    }

    private sealed class BinaryOutput
    {
        public float Probability { get; set; }
    }

    private readonly Layout _layout;
    private readonly MLContext _ml;
    private readonly ITransformer _model;

    private GbdtModel(Layout layout, MLContext ml, ITransformer model)
    {
        _layout = layout;
        _ml = ml;
        _model = model;
    }

    /// <summary>The objective it was trained with.</summary>
    public GbdtObjective Objective => _layout.Objective;

    /// <summary>Whether it reads the dialogue.</summary>
    public bool ReadsText => _layout.Text;

    /// <summary>
    /// Graded relevance of a labelled lead for LambdaRank: 2·(lost ? 0 : 1 + stage index), plus 1 for a
    /// long call; a converted lead gets the top grade, 2·stages + 1.
    /// </summary>
    public static float Relevance(Lead lead, FunnelConfig funnel)
    {
        if (lead.Converted == 1) return 2 * funnel.Stages.Length + 1;
        int stage = lead.Stage is { } s && !funnel.LostStages.Contains(s) ? 1 + Math.Max(0, Array.IndexOf(funnel.Stages, s)) : 0;
        return 2 * stage + (lead.CallSeconds >= funnel.LongCallSeconds ? 1 : 0);
    }

    /// <summary>
    /// Trains on labelled leads (deterministic for a seed). <paramref name="extra"/> holds, per lead, the
    /// values of <paramref name="extraInputs"/>; <paramref name="readText"/> false ignores the dialogue.
    /// </summary>
    public static GbdtModel Train(IReadOnlyList<Lead> leads, FunnelConfig funnel, GbdtObjective objective = GbdtObjective.Binary, bool readText = true,
        IReadOnlyList<string>? extraInputs = null, IReadOnlyList<float[]>? extra = null, int seed = 1)
    {
        var names = leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct(StringComparer.Ordinal).ToList();
        var columns = names.Select(name =>
        {
            var values = leads.Select(l => l.Feature(name)).Where(v => v is not null).Select(v => v!).ToList();
            bool numeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            return new ColumnLayout(name, numeric ? null : values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count())
                .ThenBy(g => g.Key, StringComparer.Ordinal).Take(MaxCategories).Select(g => g.Key).Order(StringComparer.Ordinal).ToArray());
        }).ToArray();
        var layout = new Layout
        {
            Columns = columns, Text = readText && leads.Any(l => l.Dialogue is not null), ExtraInputs = [.. extraInputs ?? []], Objective = objective,
        };
        var ml = new MLContext(seed);
        var rows = Rows(layout, leads, extra);
        for (int i = 0; i < rows.Count; i++)
        {
            rows[i].Label = leads[i].Converted == 1;
            rows[i].Relevance = Relevance(leads[i], funnel);
            rows[i].Group = (uint)(i / RankGroupSize);
        }
        var data = ml.Data.LoadFromEnumerable(rows, Schema(layout));
        IEstimator<ITransformer> pipeline = layout.Text
            ? ml.Transforms.Text.FeaturizeText("TextFeatures", new TextFeaturizingEstimator.Options
            {
                WordFeatureExtractor = new WordBagEstimator.Options { NgramLength = 1, Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf },
                CharFeatureExtractor = null,
                Norm = TextFeaturizingEstimator.NormFunction.L2,
            }, nameof(Row.Text))
                .Append(ml.Transforms.Concatenate("Features", nameof(Row.Tabular), "TextFeatures"))
            : ml.Transforms.Concatenate("Features", nameof(Row.Tabular));
        if (objective == GbdtObjective.Binary)
        {
            pipeline = pipeline.Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Label), FeatureColumnName = "Features",
                NumberOfIterations = 200, LearningRate = 0.05, NumberOfLeaves = 15, MinimumExampleCountPerLeaf = 20, Seed = seed,
                NumberOfThreads = 1, Verbose = false, Silent = true,
            }));
        }
        else
        {
            pipeline = pipeline.Append(ml.Transforms.Conversion.MapValueToKey("GroupKey", nameof(Row.Group)))
                .Append(ml.Ranking.Trainers.LightGbm(new LightGbmRankingTrainer.Options
                {
                    LabelColumnName = nameof(Row.Relevance), FeatureColumnName = "Features", RowGroupColumnName = "GroupKey",
                    NumberOfIterations = 200, LearningRate = 0.05, NumberOfLeaves = 15, MinimumExampleCountPerLeaf = 20, Seed = seed,
                    NumberOfThreads = 1, Verbose = false, Silent = true,
                }));
        }
        return new GbdtModel(layout, ml, pipeline.Fit(data));
    }

    /// <summary>The row schema with the tabular vector's width, known only at run time.</summary>
    private static SchemaDefinition Schema(Layout layout)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Tabular)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, layout.Width);
        return schema;
    }

    private static List<Row> Rows(Layout layout, IReadOnlyList<Lead> leads, IReadOnlyList<float[]>? extra)
    {
        if (layout.ExtraInputs.Length > 0 && (extra is null || extra.Count != leads.Count || extra.Any(e => e.Length != layout.ExtraInputs.Length)))
            throw new ArgumentException($"the tree model reads {layout.ExtraInputs.Length} extra inputs ({string.Join(", ", layout.ExtraInputs)}) for each of the {leads.Count} leads");
        var rows = new List<Row>(leads.Count);
        for (int i = 0; i < leads.Count; i++)
        {
            var vector = new float[layout.Width];
            int slot = 0;
            foreach (var column in layout.Columns)
            {
                string? value = leads[i].Feature(column.Name);
                if (column.Categories is null)
                {
                    vector[slot++] = value is not null && float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN;
                }
                else
                {
                    int index = value is null ? -1 : Array.BinarySearch(column.Categories, value, StringComparer.Ordinal);
                    if (index >= 0) vector[slot + index] = 1f;
                    slot += column.Categories.Length;
                }
            }
            for (int e = 0; e < layout.ExtraInputs.Length; e++) vector[slot++] = extra![i][e];
            rows.Add(new Row { Tabular = vector, Text = leads[i].Dialogue ?? "" });
        }
        return rows;
    }

    /// <summary>Binary: predicted conversion probabilities; LambdaRank: ranking scores (higher first).</summary>
    public double[] Predict(IReadOnlyList<Lead> leads, IReadOnlyList<float[]>? extra = null)
    {
        if (leads.Count == 0) return [];
        var data = _ml.Data.LoadFromEnumerable(Rows(_layout, leads, extra), Schema(_layout));
        var output = _model.Transform(data);
        return _layout.Objective == GbdtObjective.Binary
            ? _ml.Data.CreateEnumerable<BinaryOutput>(output, reuseRowObject: false).Select(p => (double)p.Probability).ToArray()
            : _ml.Data.CreateEnumerable<Output>(output, reuseRowObject: false).Select(p => (double)p.Score).ToArray();
    }

    /// <summary>Writes <c>gbdt.zip</c> and <c>gbdt.json</c> into <paramref name="directory"/> (atomically each).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var schema = _ml.Data.LoadFromEnumerable(Array.Empty<Row>(), Schema(_layout)).Schema;
        AtomicFile.Write(Path.Combine(directory, PipelineFile), stream => _ml.Model.Save(_model, schema, stream));
        AtomicFile.WriteAllText(Path.Combine(directory, LayoutFile), JsonSerializer.Serialize(_layout, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>True when <paramref name="directory"/> holds a saved tree model.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, PipelineFile)) && File.Exists(Path.Combine(directory, LayoutFile));

    /// <summary>Loads a tree model saved by <see cref="Save"/>.</summary>
    public static GbdtModel Load(string directory)
    {
        var layout = JsonFile.Read<Layout>(Path.Combine(directory, LayoutFile), "tree model layout");
        var ml = new MLContext(1);
        string pipeline = Path.Combine(directory, PipelineFile);
        try
        {
            using var stream = File.OpenRead(pipeline);
            return new GbdtModel(layout, ml, ml.Model.Load(stream, out _));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{pipeline}: not a readable ML.NET model ({e.Message})", e);
        }
    }
}
