using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Turns a lead into a Qwen chat prompt: the features as <c>name: value</c> lines, then the
/// dialogue, then the question, in the chat template, ending where the assistant's answer starts
/// (so the LM head's next-token logits score "Yes" against "No"). Deterministic.
/// </summary>
public sealed class PromptBuilder
{
    private readonly QwenTokenizer _tokenizer;

    // The constant parts, tokenised once: each ends or starts where Qwen's pre-tokenizer always splits (a
    // newline after a word or special token), so their ids are those of the whole prompt tokenised at once.
    private readonly int[] _systemIds, _dialogueLabelIds, _tailIds;

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
        _systemIds = [.. tokenizer.Encode($"<|im_start|>system\n{Options.SystemMessage}<|im_end|>\n<|im_start|>user\n")];
        _dialogueLabelIds = [.. tokenizer.Encode("\nConversation:\n")];
        _tailIds = [.. tokenizer.Encode($"\nQuestion: {Options.Question}<|im_end|>\n<|im_start|>assistant\n")];
    }

    /// <summary>Builds the prompt of <paramref name="lead"/>.</summary>
    /// <exception cref="InvalidDataException">The features and question alone exceed the token budget.</exception>
    public Prompt Build(Lead lead)
    {
        string features = string.Join("\n", lead.Features.Select(f => $"{f.Key}: {f.Value}"));
        var featureIds = _tokenizer.Encode($"Lead features:\n{features}\n");
        int fixedCount = _systemIds.Length + featureIds.Count + _tailIds.Length;
        int room = Options.TokenBudget - fixedCount;
        if (room < 0)
            throw new InvalidDataException($"lead '{lead.Id}': features and question take {fixedCount} tokens, over the budget of {Options.TokenBudget}");
        var ids = new List<int>(Options.TokenBudget);
        ids.AddRange(_systemIds);
        ids.AddRange(featureIds);
        bool truncated = false;
        if (lead.Dialogue is { } dialogue)
        {
            var dialogueIds = _tokenizer.Encode(dialogue);
            if (_dialogueLabelIds.Length < room)
            {
                int keep = Math.Min(dialogueIds.Count, room - _dialogueLabelIds.Length);
                truncated = keep < dialogueIds.Count;
                ids.AddRange(_dialogueLabelIds);
                ids.AddRange(dialogueIds.Take(keep));
            }
            else
            {
                truncated = true;
            }
        }
        ids.AddRange(_tailIds);
        return new Prompt([.. ids], truncated);
    }

    /// <summary>The text <paramref name="prompt"/>'s ids decode to (for people: scoring reads the ids alone).</summary>
    public string Text(Prompt prompt) => _tokenizer.Decode(prompt.Ids);
}
