using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LeadEngine.Bench;

/// <summary>
/// llama.cpp as a benchmark peer (never a dependency of LeadEngine): the prebuilt CPU build that
/// <c>scripts/llama-cpp.sh</c> installs (node-llama-cpp's <c>bins/linux-x64</c>: <c>libllama</c>, <c>libggml</c>, one
/// <c>libggml-cpu-*</c> per CPU family), called through its C API. The struct layouts below are those of the
/// <c>llama.h</c> in that package's own llama.cpp bundle (release v0.4.0); a different build needs them checked again.
/// One instance is one GGUF model; <see cref="Prepare"/> makes a context for a shape, <see cref="Decode"/> runs a batch
/// and asks for the last token's output of each sequence only.
/// </summary>
internal sealed unsafe class LlamaCppPeer : IDisposable
{
    private const string Llama = "llama";
    private const string Ggml = "ggml";
    /// <summary>ggml.h: GGML_TYPE_F32.</summary>
    private const int GgmlTypeF32 = 0;

    /// <summary>The folder of prebuilt libraries under <c>.cache/llama-cpp</c> (or <c>LEADENGINE_LLAMA_CPP</c>), or null when not installed.</summary>
    public static string? FindLibraries()
    {
        string? root = Environment.GetEnvironmentVariable("LEADENGINE_LLAMA_CPP") is { Length: > 0 } set ? set : LeadEngine.Engine.RepositoryPaths.Find(Path.Combine(".cache", "llama-cpp"));
        if (root is null) return null;
        string bins = Path.Combine(root, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
        return Directory.Exists(bins) && Directory.GetFiles(bins, "libllama.v*.so").Length > 0 ? bins : null;
    }

    private static string? s_libraries;

    /// <summary>Loads the libraries from <paramref name="libraries"/> once per process, with their CPU backends, and silences their log.</summary>
    private static void Initialize(string libraries)
    {
        if (s_libraries is not null)
        {
            if (s_libraries != libraries) throw new InvalidOperationException($"llama.cpp is already loaded from {s_libraries}");
            return;
        }
        string llama = Directory.GetFiles(libraries, "libllama.v*.so").Single(), ggml = Directory.GetFiles(libraries, "libggml.v*.so").Single();
        NativeLibrary.SetDllImportResolver(typeof(LlamaCppPeer).Assembly, (name, _, _) =>
            name == Llama ? NativeLibrary.Load(llama) : name == Ggml ? NativeLibrary.Load(ggml) : IntPtr.Zero);
        llama_log_set(&Silent, null);
        // The CPU backend is a plugin: libggml picks the libggml-cpu-* build that fits this CPU.
        ggml_backend_load_all_from_path(libraries);
        llama_backend_init();
        s_libraries = libraries;
    }

    /// <summary>llama.cpp's recent warnings and errors, for the message when a call fails (its log is kept off the console).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> s_problems = new();

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Silent(int level, byte* text, void* user)
    {
        const int Warn = 3, Error = 4; // ggml_log_level
        if (level is not (Warn or Error) || text == null) return;
        s_problems.Enqueue(Marshal.PtrToStringUTF8((IntPtr)text)?.TrimEnd() ?? "");
        while (s_problems.Count > 8) s_problems.TryDequeue(out _);
    }

    private static string Problems() => s_problems.IsEmpty ? "" : ": " + string.Join(" / ", s_problems);

    private readonly IntPtr _model;
    private readonly int _threads;
    private readonly bool _f32Cache;
    private IntPtr _context;
    private LlamaBatch _batch;
    private int _batchCapacity;
    private int[] _lastIndex = [];

    /// <summary>
    /// Loads <paramref name="gguf"/> with the libraries in <paramref name="libraries"/>, for <paramref name="threads"/>
    /// threads; <paramref name="f32Cache"/> keeps keys and values in f32 instead of llama.cpp's default f16.
    /// </summary>
    public LlamaCppPeer(string libraries, string gguf, int threads, bool f32Cache)
    {
        Initialize(libraries);
        var parameters = llama_model_default_params();
        parameters.NGpuLayers = 0;
        _model = llama_model_load_from_file(gguf, parameters);
        if (_model == IntPtr.Zero) throw new InvalidDataException($"{gguf}: llama.cpp could not load it{Problems()}");
        _threads = threads;
        _f32Cache = f32Cache;
    }

    /// <summary>
    /// A context for <paramref name="sequences"/> sequences of up to <paramref name="length"/> tokens each, one decode per
    /// call: a key/value cache per sequence (not one shared, where every sequence would attend over all of them masked),
    /// outputs for one token per sequence, llama.cpp's defaults otherwise (its physical batch of 512 tokens, flash
    /// attention where the backend has it, f16 key/value cache unless f32 was asked for).
    /// </summary>
    public void Prepare(int sequences, int length)
    {
        FreeContext();
        var parameters = llama_context_default_params();
        parameters.NCtx = (uint)(sequences * length);
        parameters.NBatch = (uint)(sequences * length);
        parameters.NSeqMax = (uint)sequences;
        parameters.NOutputsMax = (uint)sequences;
        parameters.NThreads = _threads;
        parameters.NThreadsBatch = _threads;
        parameters.Embeddings = 0;
        parameters.NoPerf = 1;
        parameters.KvUnified = 0;
        if (_f32Cache) parameters.TypeK = parameters.TypeV = GgmlTypeF32;
        _context = llama_init_from_model(_model, parameters);
        if (_context == IntPtr.Zero) throw new InvalidOperationException($"llama.cpp: no context for {sequences} × {length} tokens{Problems()}");
        _batch = llama_batch_init(sequences * length, 0, 1);
        _batchCapacity = sequences * length;
    }

    /// <summary>Decodes <paramref name="sequences"/> from an empty cache, each its own sequence, with the output of each one's last token only.</summary>
    public void Decode(int[][] sequences)
    {
        int total = sequences.Sum(s => s.Length);
        if (_context == IntPtr.Zero || total > _batchCapacity) throw new InvalidOperationException("llama.cpp: Prepare a context for this shape first");
        llama_memory_clear(llama_get_memory(_context), 1);
        _lastIndex = new int[sequences.Length];
        int n = 0;
        for (int s = 0; s < sequences.Length; s++)
            for (int t = 0; t < sequences[s].Length; t++, n++)
            {
                _batch.Token[n] = sequences[s][t];
                _batch.Pos[n] = t;
                _batch.NSeqId[n] = 1;
                _batch.SeqId[n][0] = s;
                bool last = t == sequences[s].Length - 1;
                _batch.Logits[n] = (sbyte)(last ? 1 : 0);
                if (last) _lastIndex[s] = n;
            }
        _batch.NTokens = n;
        int status = llama_decode(_context, _batch);
        if (status != 0) throw new InvalidOperationException($"llama.cpp: llama_decode returned {status}{Problems()}");
    }

    /// <summary>The last decode's logits of <paramref name="tokenIds"/> at the last token of sequence <paramref name="sequence"/>.</summary>
    public float[] LastLogits(int sequence, IReadOnlyList<int> tokenIds)
    {
        float* logits = llama_get_logits_ith(_context, _lastIndex[sequence]);
        if (logits == null) throw new InvalidOperationException($"llama.cpp: no logits for sequence {sequence}");
        return tokenIds.Select(id => logits[id]).ToArray();
    }

    private void FreeContext()
    {
        if (_context == IntPtr.Zero) return;
        llama_batch_free(_batch);
        llama_free(_context);
        _context = IntPtr.Zero;
    }

    public void Dispose()
    {
        FreeContext();
        llama_model_free(_model);
    }

    // llama.h (v0.4.0 bundle): struct llama_model_params.
    [StructLayout(LayoutKind.Sequential)]
    private struct LlamaModelParams
    {
        public IntPtr Devices, TensorBufferOverrides;
        public int NGpuLayers, SplitMode, LoadMode, LazyMode, MainGpu;
        public IntPtr TensorSplit, ProgressCallback, ProgressCallbackUserData, KvOverrides;
        public byte VocabOnly, CheckTensors, UseExtraBufferTypes, NoHost, NoAlloc, LoadMtp;
    }

    // llama.h (v0.4.0 bundle): struct llama_context_params.
    [StructLayout(LayoutKind.Sequential)]
    private struct LlamaContextParams
    {
        public uint NCtx, NBatch, NUbatch, NSeqMax, NRsSeq, NOutputsMax, NOutputsMaxPerSeq;
        public int NThreads, NThreadsBatch;
        public int ContextType, RopeScalingType, PoolingType, AttentionType, FlashAttentionType;
        public float RopeFreqBase, RopeFreqScale, YarnExtFactor, YarnAttnFactor, YarnBetaFast, YarnBetaSlow;
        public uint YarnOrigCtx;
        public float DefragThreshold;
        public IntPtr EvalCallback, EvalCallbackUserData;
        public int TypeK, TypeV;
        public IntPtr AbortCallback, AbortCallbackData;
        public byte Embeddings, OffloadKqv, NoPerf, OpOffload, SwaFull, KvUnified;
        public IntPtr Samplers;
        public nuint NSamplers;
        public IntPtr ContextOther;
    }

    // llama.h: struct llama_batch.
    [StructLayout(LayoutKind.Sequential)]
    private struct LlamaBatch
    {
        public int NTokens;
        public int* Token;
        public float* Embedding;
        public int* Pos;
        public int* NSeqId;
        public int** SeqId;
        public sbyte* Logits;
    }

    [DllImport(Ggml)] private static extern void ggml_backend_load_all_from_path([MarshalAs(UnmanagedType.LPUTF8Str)] string directory);
    [DllImport(Llama)] private static extern void llama_log_set(delegate* unmanaged[Cdecl]<int, byte*, void*, void> callback, void* user);
    [DllImport(Llama)] private static extern void llama_backend_init();
    [DllImport(Llama)] private static extern LlamaModelParams llama_model_default_params();
    [DllImport(Llama)] private static extern IntPtr llama_model_load_from_file([MarshalAs(UnmanagedType.LPUTF8Str)] string path, LlamaModelParams parameters);
    [DllImport(Llama)] private static extern void llama_model_free(IntPtr model);
    [DllImport(Llama)] private static extern LlamaContextParams llama_context_default_params();
    [DllImport(Llama)] private static extern IntPtr llama_init_from_model(IntPtr model, LlamaContextParams parameters);
    [DllImport(Llama)] private static extern void llama_free(IntPtr context);
    [DllImport(Llama)] private static extern LlamaBatch llama_batch_init(int tokens, int embedding, int sequencesPerToken);
    [DllImport(Llama)] private static extern void llama_batch_free(LlamaBatch batch);
    [DllImport(Llama)] private static extern int llama_decode(IntPtr context, LlamaBatch batch);
    [DllImport(Llama)] private static extern IntPtr llama_get_memory(IntPtr context);
    [DllImport(Llama)] private static extern void llama_memory_clear(IntPtr memory, byte data);
    [DllImport(Llama)] private static extern float* llama_get_logits_ith(IntPtr context, int index);
}
