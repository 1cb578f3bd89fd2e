namespace LeadEngine.LeadScoring;

/// <summary>A built prompt (its text: <see cref="PromptBuilder.Text"/>).</summary>
/// <param name="Ids">Token ids, at most the budget.</param>
/// <param name="DialogueTruncated">True when the dialogue was cut to fit the budget.</param>
public sealed record Prompt(int[] Ids, bool DialogueTruncated);
