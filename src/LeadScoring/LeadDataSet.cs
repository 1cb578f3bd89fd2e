namespace LeadEngine.LeadScoring;

/// <summary>Leads read from a file, with the rows skipped under <c>--skip-bad-rows</c>.</summary>
/// <param name="Leads">The good rows, in file order.</param>
/// <param name="Skipped">One error per skipped row.</param>
/// <param name="Columns">The column mapping as applied to this file (roles it lacks are absent).</param>
/// <param name="Notes">What the mapping had to assume, one line each (e.g. no creation time: row order).</param>
public sealed record LeadDataSet(IReadOnlyList<Lead> Leads, IReadOnlyList<LeadDataException> Skipped, LeadColumns Columns, IReadOnlyList<string> Notes);
