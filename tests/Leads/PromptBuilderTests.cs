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

            """.ReplaceLineEndings("\n"), builder.Text(prompt));
        Assert.Equal(QwenTokenizer.ImStart, prompt.Ids[0]);
        Assert.False(prompt.DialogueTruncated);
        Assert.Equal(prompt.Ids, builder.Build(Lead("Customer asked about a test drive.")).Ids);
        Assert.Equal(Tokenizer.Value.Encode("Yes"), [builder.YesTokenId]);
        Assert.Equal(Tokenizer.Value.Encode("No"), [builder.NoTokenId]);
    }

    /// <summary>
    /// The constant parts are tokenised once; the ids must be those of the prompt's head (system message and
    /// features) tokenised in one piece, then the dialogue and the question (as trained adapters saw them), on the
    /// synthetic funnel's leads, real bank leads and edge cases (no features, no dialogue, odd values).
    /// </summary>
    [Fact]
    public void CachedConstantPartsGiveTheIdsOfTheWholeText()
    {
        string dir = Directory.CreateTempSubdirectory("prompt-ids-").FullName;
        try
        {
            string synthetic = Path.Combine(dir, "leads.csv");
            SyntheticLeads.WriteCsv(synthetic, 200, seed: 3);
            var leads = LeadDataReader.Read(synthetic, FunnelConfig.Automotive, requireOutcome: true).Leads
                .Concat(LeadDataReader.Read(Fixtures.BankMarketingHead(dir, 200), FunnelConfig.Automotive, requireOutcome: true,
                    columns: new LeadColumns { Id = null, CreatedAt = null, Label = "y", Stage = null, CallSeconds = "duration", Dialogue = null }).Leads)
                .Append(Lead(null) with { Features = [] })
                .Append(Lead(" leading space\n\nand blank lines ") with { Features = [new("note", "\n starts with a newline"), new("x", "")] })
                .ToList();
            var builder = new PromptBuilder(Tokenizer.Value);
            var t = Tokenizer.Value;
            foreach (var lead in leads)
            {
                string features = string.Join("\n", lead.Features.Select(f => $"{f.Key}: {f.Value}"));
                int[] expected = [.. t.Encode($"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nLead features:\n{features}\n"),
                    .. lead.Dialogue is { } d ? [.. t.Encode("\nConversation:\n"), .. t.Encode(d)] : Array.Empty<int>(),
                    .. t.Encode("\nQuestion: Will this customer place an order? Answer Yes or No.<|im_end|>\n<|im_start|>assistant\n")];
                Assert.Equal(expected, builder.Build(lead).Ids);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BudgetTruncatesTheDialogueNeverTheFeatures()
    {
        string longDialogue = string.Join(" ", Enumerable.Range(0, 400).Select(i => $"word{i}"));
        var builder = new PromptBuilder(Tokenizer.Value, new PromptOptions { TokenBudget = 120 });
        var prompt = builder.Build(Lead(longDialogue));
        Assert.True(prompt.DialogueTruncated);
        Assert.Equal(120, prompt.Ids.Length);
        Assert.Contains("budget_eur: 32000", builder.Text(prompt));
        Assert.EndsWith("Answer Yes or No.<|im_end|>\n<|im_start|>assistant\n", builder.Text(prompt));
        Assert.Contains("word0 word1", builder.Text(prompt));
        Assert.DoesNotContain("word399", builder.Text(prompt));
    }

    [Fact]
    public void FeaturesOverBudgetNameTheLead()
    {
        var builder = new PromptBuilder(Tokenizer.Value, new PromptOptions { TokenBudget = 20 });
        var e = Assert.Throws<InvalidDataException>(() => builder.Build(Lead(null)));
        Assert.Contains("lead 'L7'", e.Message);
    }
}
