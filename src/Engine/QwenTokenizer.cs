using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace LeadEngine.Engine;

/// <summary>
/// Qwen's byte-level BPE (Qwen1.5, 2, 2.5 and 3 share it) on Microsoft.ML.Tokenizers: vocabulary
/// and merges from <c>tokenizer.json</c> (or <c>vocab.json</c> + <c>merges.txt</c>), the added
/// tokens as special tokens, NFC normalisation and Qwen2's split pattern as pre-tokenizer.
/// </summary>
public sealed class QwenTokenizer
{
    /// <summary>Qwen2's pre-tokenizer split pattern (from tokenizer.json).</summary>
    public const string SplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary><c>&lt;|endoftext|&gt;</c></summary>
    public const int EndOfText = 151643;
    /// <summary><c>&lt;|im_start|&gt;</c></summary>
    public const int ImStart = 151644;
    /// <summary><c>&lt;|im_end|&gt;</c></summary>
    public const int ImEnd = 151645;

    /// <summary>Special tokens of every Qwen2-family tokenizer, used when the files list none.</summary>
    private static readonly Dictionary<string, int> DefaultSpecialTokens = new()
    {
        ["<|endoftext|>"] = EndOfText,
        ["<|im_start|>"] = ImStart,
        ["<|im_end|>"] = ImEnd,
    };

    private readonly Tokenizer _tokenizer;

    /// <summary>Special (added) tokens by text.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Where the files came from.</summary>
    public string Source { get; }

    private QwenTokenizer(Tokenizer tokenizer, IReadOnlyDictionary<string, int> specialTokens, string source)
    {
        _tokenizer = tokenizer;
        SpecialTokens = specialTokens;
        Source = source;
    }

    /// <summary>The default tokenizer folder, installed by <c>scripts/setup.sh</c>.</summary>
    public static string DefaultDirectory(string repoRoot) => Path.Combine(repoRoot, "weights", "qwen-tokenizer");

    /// <summary>
    /// The tokenizer a model folder runs with: the folder's own files, else the folder named by
    /// <c>LEADENGINE_TOKENIZER</c>, else the default Qwen tokenizer that <c>scripts/setup.sh</c> installs.
    /// </summary>
    /// <exception cref="FileNotFoundException">None of them has tokenizer files.</exception>
    public static QwenTokenizer ForModel(string modelDir)
    {
        if (HasFiles(modelDir)) return FromDirectory(modelDir);
        string? fallback = Environment.GetEnvironmentVariable("LEADENGINE_TOKENIZER") ?? RepositoryPaths.Find(Path.Combine("weights", "qwen-tokenizer"));
        if (fallback is null || !HasFiles(fallback))
            throw new FileNotFoundException($"{modelDir}: no tokenizer.json or vocab.json + merges.txt, and no default tokenizer (run scripts/setup.sh)");
        return FromDirectory(fallback);
    }

    /// <summary>True when <paramref name="directory"/> holds tokenizer files.</summary>
    public static bool HasFiles(string directory) =>
        File.Exists(Path.Combine(directory, "tokenizer.json")) ||
        (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")));

    /// <summary>Builds the tokenizer from <c>tokenizer.json</c>, else <c>vocab.json</c> + <c>merges.txt</c>, in <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">Neither set of files is present.</exception>
    public static QwenTokenizer FromDirectory(string directory)
    {
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson)) return FromTokenizerJson(tokenizerJson);
        string vocab = Path.Combine(directory, "vocab.json"), merges = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges)) return FromVocabAndMerges(vocab, merges);
        throw new FileNotFoundException($"{directory}: no tokenizer.json or vocab.json + merges.txt (run scripts/setup.sh for the default Qwen tokenizer)");
    }

    private static QwenTokenizer FromTokenizerJson(string path)
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
        var special = new Dictionary<string, int>();
        if (root.TryGetProperty("added_tokens", out var added))
        {
            foreach (var token in added.EnumerateArray())
                special[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        }
        return Build(vocab, merges, special.Count > 0 ? special : DefaultSpecialTokens, path);
    }

    private static QwenTokenizer FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath));
        var vocab = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        var merges = File.ReadLines(mergesPath).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        return Build(vocab, merges, DefaultSpecialTokens, vocabPath);
    }

    private static QwenTokenizer Build(List<KeyValuePair<string, int>> vocab, List<string> merges, Dictionary<string, int> special, string source)
    {
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = special,
            ByteLevel = true,
            Normalizer = NfcNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(new Regex(SplitPattern, RegexOptions.Compiled), special),
        };
        return new QwenTokenizer(BpeTokenizer.Create(options), special, source);
    }

    /// <summary>Token ids of <paramref name="text"/>; special-token text such as <c>&lt;|im_start|&gt;</c> maps to its id.</summary>
    public IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeToIds(text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);

    /// <summary>The id of a single-token text (e.g. "Yes"); throws when the text is not one token.</summary>
    public int SingleTokenId(string text)
    {
        var ids = Encode(text);
        if (ids.Count != 1) throw new ArgumentException($"'{text}' is {ids.Count} tokens, not one");
        return ids[0];
    }

    /// <summary>Unicode NFC, as Qwen's tokenizer.json normalizer.</summary>
    private sealed class NfcNormalizer : Normalizer
    {
        public static readonly NfcNormalizer Instance = new();

        public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);

        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
    }
}
