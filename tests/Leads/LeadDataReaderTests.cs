using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Leads;

/// <summary>Lead files: good rows, quoting, JSON Lines, and every bad-row kind with file, line and column.</summary>
public sealed class LeadDataReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-leads-").FullName;
    private static readonly FunnelConfig Funnel = FunnelConfig.Automotive;
    private const string Header = "lead_id,created_at,converted,stage,call_seconds,age,city,dialogue";

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    [Fact]
    public void ReadsCsvWithQuotedMultiLineDialogue()
    {
        string path = Write("ok.csv", Header,
            "L1,2024-03-01T10:00:00Z,1,order,340,41,Berlin,\"Customer: \"\"Is the SUV in stock?\"\"\nAgent: yes, two left.\"",
            "L2,2024-03-02,0,lost,,29,,");
        var data = LeadDataReader.Read(path, Funnel, requireOutcome: true);
        Assert.Equal(2, data.Leads.Count);
        var first = data.Leads[0];
        Assert.Equal("L1", first.Id);
        Assert.Equal(1, first.Converted);
        Assert.Equal(340, first.CallSeconds);
        Assert.Equal("Customer: \"Is the SUV in stock?\"\nAgent: yes, two left.", first.Dialogue);
        Assert.Equal([new("age", "41"), new KeyValuePair<string, string>("city", "Berlin")], first.Features);
        Assert.Equal(new DateTimeOffset(2024, 3, 2, 0, 0, 0, TimeSpan.Zero), data.Leads[1].CreatedAt);
        Assert.Null(data.Leads[1].CallSeconds);
        Assert.Single(data.Leads[1].Features);
    }

    [Fact]
    public void ReadsJsonLines()
    {
        string path = Write("ok.jsonl",
            """{"lead_id":"a","created_at":"2024-01-05T08:00:00+01:00","converted":0,"stage":"test_drive","call_seconds":95.5,"budget":32000,"model":"EV"}""",
            "",
            """{"lead_id":"b","created_at":"2024-01-06","converted":1,"stage":"order","dialogue":"Wants financing."}""");
        var data = LeadDataReader.Read(path, Funnel, requireOutcome: true);
        Assert.Equal(2, data.Leads.Count);
        Assert.Equal([new("budget", "32000"), new KeyValuePair<string, string>("model", "EV")], data.Leads[0].Features);
        Assert.Equal(new DateTimeOffset(2024, 1, 5, 7, 0, 0, TimeSpan.Zero), data.Leads[0].CreatedAt);
        Assert.Equal("Wants financing.", data.Leads[1].Dialogue);
    }

    /// <summary>Labels as exports write them: words, and the floats of a spreadsheet's numbers; 0.5 is no label.</summary>
    [Theory]
    [InlineData("1", 1)]
    [InlineData("1.0", 1)]
    [InlineData(" Yes ", 1)]
    [InlineData("0.0", 0)]
    [InlineData("false", 0)]
    [InlineData("0.5", null)]
    public void ReadsLabelsAsExportsWriteThem(string text, int? label) => Assert.Equal(label, LeadDataReader.ParseLabel(text));

    [Theory]
    [InlineData(",2024-01-01,0,lost,,,,", "lead_id", "missing lead id")]
    [InlineData("L9,01/13/2024 noon,0,lost,,,,", "created_at", "not an ISO 8601 date")]
    [InlineData("L9,2024-01-01,0,showroom,,,,", "stage", "unknown stage 'showroom'")]
    [InlineData("L9,2024-01-01,maybe,lost,,,,", "converted", "label 'maybe' is not 0 or 1")]
    [InlineData("L9,2024-01-01,2,lost,,,,", "converted", "label '2' is not 0 or 1")]
    [InlineData("L9,2024-01-01,0,lost,-5,,,", "call_seconds", "not a non-negative number")]
    [InlineData("L9,2024-01-01,,lost,,,,", "converted", "missing label")]
    [InlineData("L9,2024-01-01,0,lost,,,", null, "7 fields but the header has 8")]
    public void BadRowNamesFileLineAndColumn(string row, string? column, string problem)
    {
        string path = Write("bad.csv", Header, "L1,2024-01-01,0,lost,,,,", row);
        var e = Assert.Throws<LeadDataException>(() => LeadDataReader.Read(path, Funnel, requireOutcome: true));
        Assert.Equal(3, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"{path}:3:", e.Message);
    }

    [Fact]
    public void SkipBadRowsCountsThem()
    {
        string path = Write("mixed.csv", Header, "L1,2024-01-01,0,lost,,,,", "L2,bad-date,0,lost,,,,", "L1,2024-01-02,1,order,,,,", "L3,2024-01-03,1,order,,,,");
        var data = LeadDataReader.Read(path, Funnel, requireOutcome: true, skipBadRows: true);
        Assert.Equal(["L1", "L3"], data.Leads.Select(l => l.Id));
        Assert.Equal(2, data.Skipped.Count);
        Assert.Contains("duplicate lead id 'L1'", data.Skipped[1].Message);
    }

    [Fact]
    public void LeadsToScoreNeedNoOutcome()
    {
        string path = Write("new.csv", "lead_id,created_at,age", "N1,2025-02-01,33");
        var lead = Assert.Single(LeadDataReader.Read(path, Funnel, requireOutcome: false).Leads);
        Assert.Null(lead.Converted);
        Assert.Null(lead.Stage);
    }

    /// <summary>A Parquet export (typed columns, nulls) reads as the same leads a CSV holds; errors name the row.</summary>
    [Fact]
    public async Task ReadsParquetWithTypedColumnsAndNamesTheBadRow()
    {
        string path = Path.Combine(_dir, "export.parquet");
        ParquetRow[] rows =
        [
            new("P1", new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), 1, "order", 340.5, 41, "Berlin", true),
            new("P2", new DateTime(2024, 3, 2, 0, 0, 0, DateTimeKind.Utc), 0, "lost", null, null, null, false),
        ];
        await Parquet.Serialization.ParquetSerializer.SerializeAsync(rows, path);
        var data = LeadDataReader.Read(path, Funnel, requireOutcome: true);
        Assert.Equal(["P1", "P2"], data.Leads.Select(l => l.Id));
        var first = data.Leads[0];
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), first.CreatedAt);
        Assert.Equal((1, "order", 340.5), (first.Converted, first.Stage, first.CallSeconds));
        Assert.Equal([new("age", "41"), new("city", "Berlin"), new KeyValuePair<string, string>("vip", "1")], first.Features);
        Assert.Equal([new KeyValuePair<string, string>("vip", "0")], data.Leads[1].Features);

        string bad = Path.Combine(_dir, "bad.parquet");
        await Parquet.Serialization.ParquetSerializer.SerializeAsync([rows[0], rows[1] with { stage = "showroom" }], bad);
        var e = Assert.Throws<LeadDataException>(() => LeadDataReader.Read(bad, Funnel, requireOutcome: true));
        Assert.Equal((2, "stage"), (e.Line, e.Column));
        string notParquet = Write("not.parquet", "lead_id,created_at");
        Assert.StartsWith($"{notParquet}:0: not a Parquet file", Assert.Throws<LeadDataException>(() => LeadDataReader.Read(notParquet, Funnel, false)).Message);
    }

    /// <summary>A row of a typed Parquet export (property names are the column names).</summary>
    private sealed record ParquetRow(string lead_id, DateTime created_at, int converted, string stage, double? call_seconds, int? age, string? city, bool vip);

    [Fact]
    public void UnclosedQuoteAndBadJsonAreReported()
    {
        string csv = Write("open.csv", Header, "L1,2024-01-01,0,lost,,,,\"never closed");
        Assert.Contains("never closes", Assert.Throws<LeadDataException>(() => LeadDataReader.Read(csv, Funnel, true)).Message);
        string jsonl = Write("bad.jsonl", """{"lead_id":"a","created_at":"2024-01-01","converted":0,"stage":"lost"}""", "{not json");
        var e = Assert.Throws<LeadDataException>(() => LeadDataReader.Read(jsonl, Funnel, true));
        Assert.Equal(2, e.Line);
    }
}

/// <summary>Column mappings: real exports with other names, separators, label words, and no id, time or stage.</summary>
public sealed class LeadColumnsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-columns-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void BankFileReadsThroughAMapping()
    {
        string path = Fixtures.BankMarketingHead(_dir, 50);
        var columns = LeadColumns.Standard with { Label = "y", CallSeconds = "duration", Drop = ["month"] };
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, requireOutcome: true, columns: columns);
        Assert.Equal(50, data.Leads.Count);
        // No id, time, stage or dialogue column: row numbers, row order, stage from the label; each said.
        Assert.Null(data.Columns.Id);
        Assert.Null(data.Columns.CreatedAt);
        Assert.Null(data.Columns.Stage);
        Assert.Contains(data.Notes, n => n.Contains("row order is taken as the time order"));
        var first = data.Leads[0];
        Assert.Equal("1", first.Id);
        Assert.Equal(0, first.Converted);
        Assert.Equal("lead", first.Stage);
        Assert.Equal(261, first.CallSeconds);
        Assert.True(data.Leads[1].CreatedAt > first.CreatedAt);
        // ';'-separated and quoted; the label, call length and dropped columns are no features.
        Assert.Equal("housemaid", first.Feature("job"));
        Assert.Equal("56", first.Feature("age"));
        foreach (var outcome in new[] { "y", "duration", "month" }) Assert.Null(first.Feature(outcome));
        Assert.Equal(18, first.Features.Count);
    }

    [Fact]
    public void LabelWordsAndStageFromTheLabel()
    {
        string path = Path.Combine(_dir, "words.csv");
        File.WriteAllText(path, "id;won;channel\nA;Yes;web\nB;no;phone\nC;TRUE;web\n");
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, requireOutcome: true, columns: LeadColumns.Standard with { Id = "id", Label = "won" });
        Assert.Equal([1, 0, 1], data.Leads.Select(l => l.Converted!.Value));
        Assert.Equal(["order", "lead", "order"], data.Leads.Select(l => l.Stage));
        Assert.Equal(["A", "B", "C"], data.Leads.Select(l => l.Id));
        File.WriteAllText(path, "id;won;channel\nA;maybe;web\n");
        var e = Assert.Throws<LeadDataException>(() => LeadDataReader.Read(path, FunnelConfig.Automotive, true, columns: LeadColumns.Standard with { Id = "id", Label = "won" }));
        Assert.Equal(2, e.Line);
        Assert.Equal("won", e.Column);
    }

    [Fact]
    public void MissingLabelOrDroppedColumnIsNamed()
    {
        string path = Path.Combine(_dir, "nolabel.csv");
        File.WriteAllText(path, "id,channel\nA,web\n");
        var e = Assert.Throws<InvalidDataException>(() => LeadDataReader.Read(path, FunnelConfig.Automotive, true));
        Assert.Contains("no label column 'converted'", e.Message);
        Assert.Contains("--label-column", e.Message);
        e = Assert.Throws<InvalidDataException>(() => LeadDataReader.Read(path, FunnelConfig.Automotive, false, columns: LeadColumns.Standard with { Drop = ["tag"] }));
        Assert.Contains("--drop names column 'tag'", e.Message);
    }

    [Fact]
    public void MappingFileRoundTrips()
    {
        string path = Path.Combine(_dir, "columns.json");
        File.WriteAllText(path, """{"id": null, "label": "y", "call_seconds": "duration", "drop": ["pdays"]}""");
        var columns = LeadColumns.Load(path);
        Assert.Null(columns.Id);
        Assert.Equal("created_at", columns.CreatedAt);
        Assert.Equal(["pdays"], columns.Drop);
        Assert.Contains("duration", columns.NotFeatures);
    }
}

/// <summary>Row-number ids under skipped rows, and duplicate ids named by the mapped column.</summary>
public sealed class LeadRowNumberTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-rows-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void SkippedRowKeepsItsNumberAndDuplicatesNameTheMappedColumn()
    {
        string path = Path.Combine(_dir, "rows.csv");
        File.WriteAllText(path, "won,channel\n1,web\nmaybe,phone\n0,web\n");
        var data = LeadDataReader.Read(path, FunnelConfig.Automotive, true, skipBadRows: true, columns: LeadColumns.Standard with { Label = "won" });
        Assert.Equal(["1", "3"], data.Leads.Select(l => l.Id));
        File.WriteAllText(path, "id,won\nA,1\nA,0\n");
        var e = Assert.Throws<LeadDataException>(() => LeadDataReader.Read(path, FunnelConfig.Automotive, true, columns: LeadColumns.Standard with { Id = "id", Label = "won" }));
        Assert.Equal("id", e.Column);
        Assert.Equal(3, e.Line);
    }
}
