using LeadEngine.Evaluation;
using Spectre.Console;

namespace LeadEngine.Cli;

/// <summary>
/// Result tables: Spectre.Console tables on a terminal, Markdown when stdout is redirected (what the reports,
/// the README and scripts read).
/// </summary>
internal static class ConsoleTables
{
    /// <summary>The eval metrics table (<see cref="EvaluationReport.Markdown"/> when redirected).</summary>
    public static void Metrics(EvaluationResult result)
    {
        if (Console.IsOutputRedirected) Console.Write(EvaluationReport.Markdown(result.Metrics, result.Title));
        else Write(result.Title, EvaluationReport.Header, EvaluationReport.Rows(result.Metrics));
    }

    /// <summary>A table titled <paramref name="title"/>; every column after the first is right-aligned (numbers).</summary>
    public static void Write(string title, IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        if (Console.IsOutputRedirected)
        {
            Console.WriteLine(title + ":");
            Console.Write(EvaluationReport.MarkdownTable(header, rows));
            return;
        }
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        for (int c = 0; c < header.Count; c++) table.AddColumn(new TableColumn(Markup.Escape(header[c])) { Alignment = c == 0 ? Justify.Left : Justify.Right });
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}
