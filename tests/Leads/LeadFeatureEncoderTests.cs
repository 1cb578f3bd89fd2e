using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Leads;

/// <summary>Structured columns as numbers for the wide part of the heads and the Bayesian head.</summary>
public sealed class LeadFeatureEncoderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-encoder-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static Lead Lead(params (string, string)[] features) => new()
    {
        Id = "L", CreatedAt = DateTimeOffset.UnixEpoch, Features = features.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)).ToList(),
    };

    [Fact]
    public void NumbersAreStandardisedAndCategoriesOneHot()
    {
        var encoder = LeadFeatureEncoder.Fit([Lead(("age", "20"), ("channel", "web")), Lead(("age", "40"), ("channel", "phone")), Lead(("channel", "web"))]);
        // Columns in name order: age (numeric: mean 30, sd 14.14; one lead lacks it, so a missing slot follows),
        // channel (web first: the more frequent, then phone).
        Assert.Equal(4, encoder.Width);
        var x = encoder.Encode(Lead(("age", "40"), ("channel", "phone")));
        Assert.Equal(10 / Math.Sqrt(200), x[0], 12);
        Assert.Equal([0.0, 0.0, 1.0], x[1..]);
        // Missing number: the mean and its indicator; unseen category and unknown column: all zeros.
        Assert.Equal([0.0, 1.0, 0.0, 0.0], encoder.Encode(Lead(("channel", "fax"), ("unseen", "1"))));
        Assert.Equal(["age", "age missing", "channel = web", "channel = phone"], Enumerable.Range(0, 4).Select(encoder.SlotName));
    }

    [Fact]
    public void FarValuesAreClippedAndColumnsWithoutGapsHaveNoIndicator()
    {
        var encoder = LeadFeatureEncoder.Fit([Lead(("x", "0")), Lead(("x", "1")), Lead(("x", "2"))]);
        Assert.Equal(1, encoder.Width);
        Assert.Equal(LeadFeatureEncoder.Clip, encoder.Encode(Lead(("x", "1e9")))[0]);
        Assert.Equal(-LeadFeatureEncoder.Clip, encoder.Encode(Lead(("x", "-1e9")))[0]);
    }

    [Fact]
    public void SavedEncoderEncodesTheSame()
    {
        var leads = new[] { Lead(("age", "20"), ("channel", "web")), Lead(("age", "40"), ("channel", "phone")), Lead(("channel", "web")) };
        var encoder = LeadFeatureEncoder.Fit(leads);
        encoder.Save(_dir);
        var loaded = LeadFeatureEncoder.Load(_dir)!;
        Assert.Equal(encoder.Width, loaded.Width);
        foreach (var lead in leads) Assert.Equal(encoder.Encode(lead), loaded.Encode(lead));
        Assert.Null(LeadFeatureEncoder.Load(Path.Combine(_dir, "none")));
        File.WriteAllText(Path.Combine(_dir, LeadFeatureEncoder.FileName), """{"columns": [{"name": "age", "mean": 1, "scale": 0, "missing_indicator": false, "categories": null}]}""");
        Assert.Contains("non-positive scale", Assert.Throws<InvalidDataException>(() => LeadFeatureEncoder.Load(_dir)).Message);
    }
}
