using LeadEngine.Engine;

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

/// <summary>A built prompt.</summary>
/// <param name="Text">The prompt text (what the ids decode to).</param>
/// <param name="Ids">Token ids, at most the budget.</param>
/// <param name="DialogueTruncated">True when the dialogue was cut to fit the budget.</param>
public sealed record Prompt(string Text, int[] Ids, bool DialogueTruncated);

/// <summary>
/// Turns a lead into a Qwen chat prompt: the features as <c>name: value</c> lines, then the
/// dialogue, then the question, in the chat template, ending where the assistant's answer starts
/// (so the LM head's next-token logits score "Yes" against "No"). Deterministic.
/// </summary>
public sealed class PromptBuilder
{
    private readonly QwenTokenizer _tokenizer;

    /// <summary>The wording and budget.</summary>
    public PromptOptions Options { get; }

    /// <summary>Token id of the positive answer.</summary>
    public int YesTokenId { get; }

    /// <summary>Token id of the negative answer.</summary>
    public int NoTokenId { get; }

    /// <summary>Creates the builder; the answers must each be one token.</summary>
    public PromptBuilder(QwenTokenizer tokenizer, PromptOptions? options = null)
    {
        _tokenizer = tokenizer;
        Options = options ?? new PromptOptions();
        YesTokenId = tokenizer.SingleTokenId(Options.YesAnswer);
        NoTokenId = tokenizer.SingleTokenId(Options.NoAnswer);
    }

    /// <summary>Builds the prompt of <paramref name="lead"/>.</summary>
    /// <exception cref="InvalidDataException">The features and question alone exceed the token budget.</exception>
    public Prompt Build(Lead lead)
    {
        string features = string.Join("\n", lead.Features.Select(f => $"{f.Key}: {f.Value}"));
        string head = $"<|im_start|>system\n{Options.SystemMessage}<|im_end|>\n<|im_start|>user\nLead features:\n{features}\n";
        string tail = $"\nQuestion: {Options.Question}<|im_end|>\n<|im_start|>assistant\n";
        var headIds = _tokenizer.Encode(head);
        var tailIds = _tokenizer.Encode(tail);
        int room = Options.TokenBudget - headIds.Count - tailIds.Count;
        if (room < 0)
            throw new InvalidDataException($"lead '{lead.Id}': features and question take {headIds.Count + tailIds.Count} tokens, over the budget of {Options.TokenBudget}");
        var ids = new List<int>(headIds);
        bool truncated = false;
        if (lead.Dialogue is { } dialogue)
        {
            var label = _tokenizer.Encode("\nConversation:\n");
            var dialogueIds = _tokenizer.Encode(dialogue);
            if (label.Count < room)
            {
                int keep = Math.Min(dialogueIds.Count, room - label.Count);
                truncated = keep < dialogueIds.Count;
                ids.AddRange(label);
                ids.AddRange(dialogueIds.Take(keep));
            }
            else
            {
                truncated = true;
            }
        }
        ids.AddRange(tailIds);
        var array = ids.ToArray();
        return new Prompt(_tokenizer.Decode(array), array, truncated);
    }
}
