namespace LeadEngine.LeadScoring;

/// <summary>How lead prompts are worded and bounded.</summary>
public sealed record PromptOptions
{
    /// <summary>The system message of Qwen's chat template.</summary>
    public string SystemMessage { get; init; } = "You are a helpful assistant.";
    /// <summary>The question the LM head answers.</summary>
    public string Question { get; init; } = "Will this customer place an order? Answer Yes or No.";
    /// <summary>Most tokens a prompt may have; the dialogue is truncated first, never the features.</summary>
    public int TokenBudget { get; init; } = 2000;
    /// <summary>Positive answer text (one token).</summary>
    public string YesAnswer { get; init; } = "Yes";
    /// <summary>Negative answer text (one token).</summary>
    public string NoAnswer { get; init; } = "No";
}
