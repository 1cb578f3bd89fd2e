using System.Text.RegularExpressions;

namespace LeadEngine.Tests;

/// <summary>
/// The docs are true to the command line: every <c>leadengine …</c> line in a fenced block of README.md and docs/*.md names a
/// command that exists, and every option it shows is in that command's <c>--help</c>. The README stays a guide, and its links resolve.
/// </summary>
public sealed partial class DocsTests
{
    private static IEnumerable<string> DocFiles() =>
        [Path.Combine(Fixtures.RepoRoot, "README.md"), .. Directory.GetFiles(Path.Combine(Fixtures.RepoRoot, "docs"), "*.md").Order(StringComparer.Ordinal)];

    /// <summary>A documented invocation: where it is, the command words after <c>leadengine</c>, and the options it shows.</summary>
    private sealed record Invocation(string Where, string[] Command, string[] Options);

    /// <summary>
    /// Every <c>leadengine</c> line inside a fenced shell block (<c>bash</c>, <c>sh</c>, <c>shell</c>, <c>console</c>), with its continuation lines (a trailing backslash, or indented lines that
    /// go on with options); a <c>#</c> after whitespace starts a comment.
    /// </summary>
    private static List<Invocation> Invocations(string file)
    {
        var lines = File.ReadAllLines(file);
        var found = new List<Invocation>();
        bool fenced = false, shell = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string trimmed = lines[i].TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                shell = fenced && trimmed[3..].Trim() is "bash" or "sh" or "shell" or "console";
                continue;
            }
            if (!shell || !lines[i].TrimStart().StartsWith("leadengine ", StringComparison.Ordinal)) continue;
            int first = i;
            string text = StripComment(lines[i]);
            while (i + 1 < lines.Length && (text.TrimEnd().EndsWith('\\') || ContinuesOptions(lines[i + 1])))
                text = text.TrimEnd().TrimEnd('\\') + " " + StripComment(lines[++i]);
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
            var command = words.TakeWhile(w => CommandWord().IsMatch(w)).ToArray();
            var options = OptionName().Matches(text).Select(m => m.Value).Distinct().ToArray();
            found.Add(new Invocation($"{Path.GetFileName(file)}:{first + 1}", command, options));
        }
        return found;
    }

    private static bool ContinuesOptions(string line) => line.StartsWith("  ", StringComparison.Ordinal) && line.TrimStart() is var t && (t.StartsWith('[') || t.StartsWith("--", StringComparison.Ordinal));

    private static string StripComment(string line) => CommentStart().Split(line, 2)[0];

    [GeneratedRegex(@"^[a-z][a-z0-9-]*$")]
    private static partial Regex CommandWord();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();

    [GeneratedRegex(@"\s#")]
    private static partial Regex CommentStart();

    [Fact]
    public void EveryDocumentedCommandAndOptionExists()
    {
        var invocations = DocFiles().SelectMany(Invocations).ToList();
        Assert.True(invocations.Count >= 30, $"only {invocations.Count} documented invocations found: is the parser still reading the docs?");
        var help = new Dictionary<string, (int Code, string Out, string Err)>();
        var problems = new List<string>();
        foreach (var inv in invocations)
        {
            if (inv.Command.Length == 0) { problems.Add($"{inv.Where}: no command after 'leadengine'"); continue; }
            string key = string.Join(' ', inv.Command);
            if (!help.TryGetValue(key, out var h)) help[key] = h = CliRunner.Run([.. inv.Command, "--help"]);
            if (h.Code != 0) { problems.Add($"{inv.Where}: 'leadengine {key} --help' exits {h.Code}: {h.Err.Trim()}"); continue; }
            foreach (string option in inv.Options.Where(o => o != "--help"))
                if (!Regex.IsMatch(h.Out, $@"(?<![\w-]){Regex.Escape(option)}(?![\w-])"))
                    problems.Add($"{inv.Where}: 'leadengine {key}' has no option {option}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The two commands open the README, it stays a guide (detail lives in docs/), and every relative link it has resolves.</summary>
    [Fact]
    public void ReadmeIsAGuideWhoseLinksResolve()
    {
        string readme = Path.Combine(Fixtures.RepoRoot, "README.md");
        var lines = File.ReadAllLines(readme);
        Assert.True(lines.Length <= 350, $"README.md has {lines.Length} lines; detail belongs in docs/");
        Assert.StartsWith("scripts/demo.sh", lines.SkipWhile(l => !l.StartsWith("```", StringComparison.Ordinal)).Skip(1).First());
        foreach (string file in DocFiles())
            foreach (Match link in Regex.Matches(File.ReadAllText(file), @"\]\((?!https?:|#)([^)#\s]+)"))
            {
                string target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, link.Groups[1].Value));
                Assert.True(File.Exists(target) || Directory.Exists(target), $"{Path.GetFileName(file)}: link to {link.Groups[1].Value}, which does not exist");
            }
    }
}
