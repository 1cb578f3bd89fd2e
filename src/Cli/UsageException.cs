namespace LeadEngine.Cli;

/// <summary>A command line's usage is wrong (beyond what the parser checks: combinations, ranges).</summary>
public sealed class UsageException(string message) : Exception(message);
