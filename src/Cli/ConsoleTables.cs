using LeadEngine.LeadScoring.Evaluation;
using Spectre.Console;

namespace LeadEngine.Cli;

/// <summary>
/// Result tables: Spectre.Console tables on a terminal, Markdown when stdout is redirected (what the reports,
/// the README and scripts read).
/// </summary>
internal static class ConsoleTables
{
    /// <summary>The eval metrics table (the same numbers as <see cref="EvaluationReport.Markdown"/>).</summary>
    public static void Metrics(IReadOnlyList<ModelMetrics> metrics, int leads, int positives)
    {
        if (Console.IsOutputRedirected)
        {
            Console.Write(EvaluationReport.Markdown(metrics, leads, positives));
            return;
        }
        var markdown = EvaluationReport.Markdown(metrics, leads, positives).Split('\n');
        // Header and rows from the Markdown itself, so the two forms cannot disagree.
        var rows = markdown.Where(l => l.StartsWith('|') && !l.StartsWith("| ---", StringComparison.Ordinal))
            .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
        Write(markdown[0], rows[0], rows.Skip(1));
    }

    /// <summary>A table titled <paramref name="title"/>; every column after the first is right-aligned (numbers).</summary>
    public static void Write(string title, IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(title + ":");
            Console.WriteLine("| " + string.Join(" | ", header) + " |");
            Console.WriteLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", header.Count - 1)));
            foreach (var row in rows) Console.WriteLine("| " + string.Join(" | ", row) + " |");
            return;
        }
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        for (int c = 0; c < header.Count; c++) table.AddColumn(new TableColumn(Markup.Escape(header[c])) { Alignment = c == 0 ? Justify.Left : Justify.Right });
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}
