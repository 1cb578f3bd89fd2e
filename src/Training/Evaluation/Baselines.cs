using System.Globalization;
using LeadEngine.Engine.Leads;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LeadEngine.Training.Evaluation;

/// <summary>
/// Funnel + Recency: rank by the stage the lead has reached when it is scored (the
/// <c>current_stage</c> feature, if the data have it), then by recency. The outcome column
/// <c>stage</c> is never used: it would leak the label. Scores are ranks, not probabilities.
/// </summary>
public static class FunnelRecencyBaseline
{
    /// <summary>The feature holding the stage at scoring time.</summary>
    public const string CurrentStageFeature = "current_stage";

    /// <summary>Higher is better: stage index, then creation time as a fraction of the span.</summary>
    public static double[] Score(IReadOnlyList<Lead> leads, FunnelConfig funnel)
    {
        if (leads.Count == 0) return [];
        long min = leads.Min(l => l.CreatedAt.UtcTicks), span = Math.Max(1, leads.Max(l => l.CreatedAt.UtcTicks) - min);
        return leads.Select(l =>
        {
            string? stage = l.Features.FirstOrDefault(f => f.Key == CurrentStageFeature).Value;
            int index = stage is null ? 0 : Math.Max(0, Array.IndexOf(funnel.Stages, stage));
            return index + 0.999 * (l.CreatedAt.UtcTicks - min) / span;
        }).ToArray();
    }
}

/// <summary>
/// Gradient-boosted trees (ML.NET LightGBM) on the tabular features: numeric columns as numbers
/// (missing as NaN), other columns one-hot over the categories seen in training. No dialogue.
/// </summary>
public sealed class GbdtBaseline
{
    private readonly List<(string Name, string[]? Categories)> _columns;
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly int _width;

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
    }

    private sealed class Prediction
    {
        public float Probability { get; set; }
    }

    private GbdtBaseline(List<(string, string[]?)> columns, MLContext ml, ITransformer model, int width)
    {
        _columns = columns;
        _ml = ml;
        _model = model;
        _width = width;
    }

    /// <summary>Trains on labelled leads (deterministic for a seed).</summary>
    public static GbdtBaseline Train(IReadOnlyList<Lead> leads, int seed = 1)
    {
        var names = leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct().ToList();
        var columns = names.Select(name =>
        {
            var values = leads.Select(l => l.Features.FirstOrDefault(f => f.Key == name).Value).Where(v => v is not null).ToList();
            bool numeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            return (name, numeric ? null : values.Distinct().Order(StringComparer.Ordinal).ToArray());
        }).ToList<(string, string[]?)>();
        int width = Math.Max(1, columns.Sum(c => c.Item2?.Length ?? 1));
        var ml = new MLContext(seed);
        var schema = Schema(width);
        var baseline = new GbdtBaseline(columns, ml, null!, width);
        var rows = leads.Select(l => new Row { Features = baseline.Encode(l), Label = l.Converted == 1 }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var trainer = ml.BinaryClassification.Trainers.LightGbm(new Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer.Options
        {
            NumberOfIterations = 200, LearningRate = 0.05, NumberOfLeaves = 15, MinimumExampleCountPerLeaf = 20, Seed = seed,
            NumberOfThreads = 1, Verbose = false, Silent = true,
        });
        return new GbdtBaseline(columns, ml, trainer.Fit(data), width);
    }

    /// <summary>The row schema with the feature vector's width, known only at run time.</summary>
    private static SchemaDefinition Schema(int width)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    private float[] Encode(Lead lead)
    {
        var vector = new float[_width];
        int slot = 0;
        foreach (var (name, categories) in _columns)
        {
            string? value = lead.Features.FirstOrDefault(f => f.Key == name).Value;
            if (categories is null)
            {
                vector[slot++] = value is not null && float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : float.NaN;
            }
            else
            {
                int index = value is null ? -1 : Array.BinarySearch(categories, value, StringComparer.Ordinal);
                if (index >= 0) vector[slot + index] = 1f;
                slot += categories.Length;
            }
        }
        return vector;
    }

    /// <summary>Predicted conversion probabilities.</summary>
    public double[] Predict(IReadOnlyList<Lead> leads)
    {
        var data = _ml.Data.LoadFromEnumerable(leads.Select(l => new Row { Features = Encode(l) }), Schema(_width));
        return _ml.Data.CreateEnumerable<Prediction>(_model.Transform(data), reuseRowObject: false).Select(p => (double)p.Probability).ToArray();
    }
}
