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
    public static QwenTokenizer ForModel(string modelDir) => FromDirectory(DirectoryForModel(modelDir));

    /// <summary>The folder whose tokenizer files <paramref name="modelDir"/> runs with (<see cref="ForModel"/>).</summary>
    /// <exception cref="FileNotFoundException">None of them has tokenizer files.</exception>
    public static string DirectoryForModel(string modelDir)
    {
        if (HasFiles(modelDir)) return modelDir;
        string? fallback = Environment.GetEnvironmentVariable("LEADENGINE_TOKENIZER") ?? RepositoryPaths.Find(Path.Combine("weights", "qwen-tokenizer"));
        if (fallback is null || !HasFiles(fallback))
            throw new FileNotFoundException($"{modelDir}: no tokenizer.json or vocab.json + merges.txt, and no default tokenizer (run scripts/setup.sh)");
        return fallback;
    }

    /// <summary>True when <paramref name="directory"/> holds tokenizer files.</summary>
    public static bool HasFiles(string directory) => QwenTokenizerFiles.Exist(directory);

    /// <summary>Builds the tokenizer from <c>tokenizer.json</c>, else <c>vocab.json</c> + <c>merges.txt</c>, in <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">Neither set of files is present.</exception>
    public static QwenTokenizer FromDirectory(string directory)
    {
        var files = QwenTokenizerFiles.Read(directory);
        // The added tokens are special tokens to the BPE, by text (a text given twice keeps its last id).
        var special = new Dictionary<string, int>();
        foreach (var token in files.AddedTokens) special[token.Content] = token.Id;
        var options = new BpeOptions(files.Vocabulary)
        {
            Merges = files.Merges,
            SpecialTokens = special,
            ByteLevel = true,
            Normalizer = NfcNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(new Regex(SplitPattern, RegexOptions.Compiled), special),
        };
        return new QwenTokenizer(BpeTokenizer.Create(options), special, files.Source);
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
