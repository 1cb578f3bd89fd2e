using System.Text.Json;

namespace LeadEngine.Engine;

/// <summary>
/// A Qwen tokenizer's files as read: the byte-level vocabulary, the merges in rank order and the added tokens. What
/// <see cref="QwenTokenizer"/> builds from and what the GGUF export writes, so both read the files one way.
/// </summary>
/// <param name="Vocabulary">Token text and id.</param>
/// <param name="Merges">"left right", in rank order.</param>
/// <param name="AddedTokens">The added tokens; Qwen2's three special tokens when the files list none.</param>
/// <param name="Source">The file read (tokenizer.json or vocab.json).</param>
public sealed record QwenTokenizerFiles(IReadOnlyList<KeyValuePair<string, int>> Vocabulary, IReadOnlyList<string> Merges, IReadOnlyList<AddedToken> AddedTokens,
    string Source)
{
    /// <summary>Special tokens of every Qwen2-family tokenizer, used when the files list none.</summary>
    private static readonly AddedToken[] DefaultAddedTokens =
    [
        new(QwenTokenizer.EndOfText, "<|endoftext|>", true),
        new(QwenTokenizer.ImStart, "<|im_start|>", true),
        new(QwenTokenizer.ImEnd, "<|im_end|>", true),
    ];

    /// <summary>True when <paramref name="directory"/> holds tokenizer files.</summary>
    public static bool Exist(string directory) =>
        File.Exists(Path.Combine(directory, "tokenizer.json")) ||
        (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")));

    /// <summary>Reads <c>tokenizer.json</c>, else <c>vocab.json</c> + <c>merges.txt</c>, in <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">Neither set of files is present.</exception>
    public static QwenTokenizerFiles Read(string directory)
    {
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson)) return FromTokenizerJson(tokenizerJson);
        string vocab = Path.Combine(directory, "vocab.json"), merges = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges)) return FromVocabAndMerges(vocab, merges);
        throw new FileNotFoundException($"{directory}: no tokenizer.json or vocab.json + merges.txt (run scripts/setup.sh for the default Qwen tokenizer)");
    }

    private static QwenTokenizerFiles FromTokenizerJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocabElement) || !model.TryGetProperty("merges", out var mergesElement))
            throw new InvalidDataException($"{path}: no model.vocab / model.merges (not a BPE tokenizer.json)");
        var vocab = vocabElement.EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        // Merges are "a b" strings in older files and ["a", "b"] pairs in newer ones.
        var merges = mergesElement.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array
            ? m[0].GetString() + " " + m[1].GetString()
            : m.GetString()!).ToList();
        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedElement))
            foreach (var token in addedElement.EnumerateArray())
                added.Add(new AddedToken(token.GetProperty("id").GetInt32(), token.GetProperty("content").GetString()!,
                    token.TryGetProperty("special", out var special) && special.GetBoolean()));
        return new QwenTokenizerFiles(vocab, merges, added.Count > 0 ? added : DefaultAddedTokens, path);
    }

    private static QwenTokenizerFiles FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath));
        var vocab = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        return new QwenTokenizerFiles(vocab, merges, DefaultAddedTokens, vocabPath);
    }
}
