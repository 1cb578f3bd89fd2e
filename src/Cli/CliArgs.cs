namespace LeadEngine.Cli;

/// <summary>A command line's usage is wrong.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parses <c>--name value</c> options (repeatable) and <c>--flag</c> switches.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; names in <paramref name="flags"/> take no value.</summary>
    public CliArgs(IEnumerable<string> args, params string[] flags)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
            string name = a[2..];
            if (flags.Contains(name))
            {
                _flags.Add(name);
                continue;
            }
            if (i + 1 >= list.Count) throw new UsageException($"option --{name} needs a value");
            if (!_values.TryGetValue(name, out var values)) _values[name] = values = [];
            values.Add(list[++i]);
        }
    }

    /// <summary>True when the option or switch was given (does not count as reading it).</summary>
    public bool Has(string name) => _values.ContainsKey(name) || _flags.Contains(name);

    /// <summary>True when the switch was given.</summary>
    public bool Flag(string name)
    {
        _used.Add(name);
        return _flags.Contains(name);
    }

    /// <summary>All values of a repeatable option.</summary>
    public IReadOnlyList<string> All(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : [];
    }

    /// <summary>The single value of an option, or <paramref name="fallback"/>.</summary>
    public string? Optional(string name, string? fallback = null)
    {
        var all = All(name);
        if (all.Count > 1) throw new UsageException($"option --{name} given {all.Count} times");
        return all.Count == 1 ? all[0] : fallback;
    }

    /// <summary>The single value of a required option.</summary>
    public string Required(string name) => Optional(name) ?? throw new UsageException($"missing required option --{name}");

    /// <summary>An integer option.</summary>
    public int Int(string name, int fallback)
    {
        string? v = Optional(name);
        if (v is null) return fallback;
        return int.TryParse(v, out int n) ? n : throw new UsageException($"--{name} must be an integer, got '{v}'");
    }

    /// <summary>A number option (invariant culture).</summary>
    public double Double(string name, double fallback)
    {
        string? v = Optional(name);
        if (v is null) return fallback;
        return double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)
            ? d : throw new UsageException($"--{name} must be a number, got '{v}'");
    }

    /// <summary>Throws for any option the command did not read.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Concat(_flags).Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option --{unknown[0]}");
    }
}
