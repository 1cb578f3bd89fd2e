using LeadEngine.Engine.Leads;

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

    [Theory]
    [InlineData(",2024-01-01,0,lost,,,,", "lead_id", "missing lead id")]
    [InlineData("L9,01/13/2024 noon,0,lost,,,,", "created_at", "not an ISO 8601 date")]
    [InlineData("L9,2024-01-01,0,showroom,,,,", "stage", "unknown stage 'showroom'")]
    [InlineData("L9,2024-01-01,yes,lost,,,,", "converted", "label 'yes' is not 0 or 1")]
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
