namespace LeadEngine.LeadScoring;

/// <summary>A lead file row is malformed. The message names the file, line and column.</summary>
public sealed class LeadDataException(string file, int line, string? column, string problem)
    : Exception(column is null ? $"{file}:{line}: {problem}" : $"{file}:{line}: column '{column}': {problem}")
{
    /// <summary>The file.</summary>
    public string File { get; } = file;
    /// <summary>1-based line where the row starts.</summary>
    public int Line { get; } = line;
    /// <summary>The column at fault, if one is.</summary>
    public string? Column { get; } = column;
    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; } = problem;
}
