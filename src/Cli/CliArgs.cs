using System.CommandLine;

namespace LeadEngine.Cli;

/// <summary>
/// The options one command was given, as System.CommandLine parsed and type-checked them: values by name
/// (without the leading dashes), switches, and the command's own defaults where an option was not given.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    /// <summary>Collects the given <paramref name="options"/> of <paramref name="parse"/>.</summary>
    public CliArgs(ParseResult parse, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            if (parse.GetResult(option) is not { Implicit: false } given) continue;
            string name = option.Name.TrimStart('-');
            if (option.ValueType == typeof(bool))
            {
                if (parse.GetValue<bool>(option.Name)) _flags.Add(name);
            }
            else
            {
                _values[name] = given.Tokens.Select(t => t.Value).ToList();
            }
        }
    }

    /// <summary>True when the option or switch was given.</summary>
    public bool Has(string name) => _values.ContainsKey(name) || _flags.Contains(name);

    /// <summary>True when the switch was given.</summary>
    public bool Flag(string name) => _flags.Contains(name);

    /// <summary>All values of a repeatable option.</summary>
    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var v) ? v : [];

    /// <summary>The single value of an option, or <paramref name="fallback"/>.</summary>
    public string? Optional(string name, string? fallback = null)
    {
        var all = All(name);
        if (all.Count > 1) throw new UsageException($"option --{name} given {all.Count} times");
        return all.Count == 1 ? all[0] : fallback;
    }

    /// <summary>The single value of a required option (the parser has already refused a command line without it).</summary>
    public string Required(string name) => Optional(name) ?? throw new UsageException($"missing required option --{name}");

    /// <summary>An integer option (the parser checked it is one).</summary>
    public int Int(string name, int fallback) => Optional(name) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>A number option (the parser checked it is one).</summary>
    public double Double(string name, double fallback) =>
        Optional(name) is { } v ? double.Parse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
