using LeadEngine.Engine;
using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Leads;

/// <summary>Lead prompts: template, order, determinism, and the token budget.</summary>
public class PromptBuilderTests
{
    private static readonly Lazy<QwenTokenizer> Tokenizer = new(() => QwenTokenizer.FromDirectory(QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot)));

    private static Lead Lead(string? dialogue) => new()
    {
        Id = "L7",
        CreatedAt = DateTimeOffset.UnixEpoch,
        Features = [new("age", "41"), new("city", "Berlin"), new("budget_eur", "32000")],
        Dialogue = dialogue,
    };

    [Fact]
    public void FeaturesThenDialogueThenQuestionInChatTemplate()
    {
        var builder = new PromptBuilder(Tokenizer.Value);
        var prompt = builder.Build(Lead("Customer asked about a test drive."));
        Assert.Equal("""
            <|im_start|>system
            You are a helpful assistant.<|im_end|>
            <|im_start|>user
            Lead features:
            age: 41
            city: Berlin
            budget_eur: 32000

            Conversation:
            Customer asked about a test drive.
            Question: Will this customer place an order? Answer Yes or No.<|im_end|>
            <|im_start|>assistant

            """.ReplaceLineEndings("\n"), prompt.Text);
        Assert.Equal(QwenTokenizer.ImStart, prompt.Ids[0]);
        Assert.False(prompt.DialogueTruncated);
        Assert.Equal(prompt.Ids, builder.Build(Lead("Customer asked about a test drive.")).Ids);
        Assert.Equal(Tokenizer.Value.Encode("Yes"), [builder.YesTokenId]);
        Assert.Equal(Tokenizer.Value.Encode("No"), [builder.NoTokenId]);
    }

    [Fact]
    public void BudgetTruncatesTheDialogueNeverTheFeatures()
    {
        string longDialogue = string.Join(" ", Enumerable.Range(0, 400).Select(i => $"word{i}"));
        var builder = new PromptBuilder(Tokenizer.Value, new PromptOptions { TokenBudget = 120 });
        var prompt = builder.Build(Lead(longDialogue));
        Assert.True(prompt.DialogueTruncated);
        Assert.Equal(120, prompt.Ids.Length);
        Assert.Contains("budget_eur: 32000", prompt.Text);
        Assert.EndsWith("Answer Yes or No.<|im_end|>\n<|im_start|>assistant\n", prompt.Text);
        Assert.Contains("word0 word1", prompt.Text);
        Assert.DoesNotContain("word399", prompt.Text);
    }

    [Fact]
    public void FeaturesOverBudgetNameTheLead()
    {
        var builder = new PromptBuilder(Tokenizer.Value, new PromptOptions { TokenBudget = 20 });
        var e = Assert.Throws<InvalidDataException>(() => builder.Build(Lead(null)));
        Assert.Contains("lead 'L7'", e.Message);
    }
}
