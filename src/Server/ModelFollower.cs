using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>
/// Keeps a host on the version its store's model history has in force: it loads that version to start with, then
/// checks the store every <c>poll</c> and, when another version was promoted or rolled back to (by this host or any
/// other), unpacks it, loads it and swaps it in. A host therefore serves the version in force at most one poll
/// interval plus one model load after the change. Each scorer it loads has a compute device of its own. A host started
/// before its store had a history (<see cref="ForAdapter"/>) follows it from the moment one exists. Every check leaves a
/// heartbeat in the store (<see cref="FeedbackStore.BeatAsync"/>): what this host serves, for <c>update</c> and <c>rollback</c> to report.
/// </summary>
public sealed class ModelFollower : IAsyncDisposable
{
    private readonly FeedbackStore _store;
    private readonly DeviceKind _kind;
    private readonly Precision _precision;
    private readonly int _batchSize;
    private readonly Action<string> _log;
    private readonly Dictionary<LeadScorer, ComputeDevice> _owned = [];
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private LeadServer? _server;
    private Task _loop = Task.CompletedTask;

    private ModelFollower(FeedbackStore store, string cacheDir, string modelDir, QwenTokenizer tokenizer, DeviceKind kind, Precision precision, int batchSize, Action<string> log)
    {
        (_store, CacheDir, ModelDir, Tokenizer, _kind, _precision, _batchSize, _log) = (store, cacheDir, modelDir, tokenizer, kind, precision, batchSize, log);
    }

    /// <summary>The base model every version is loaded on.</summary>
    public string ModelDir { get; }

    /// <summary>Its tokenizer.</summary>
    public QwenTokenizer Tokenizer { get; }

    /// <summary>This host's folder of unpacked versions.</summary>
    public string CacheDir { get; }

    /// <summary>
    /// The scorer of the version in force when opened: serve it first (<see cref="LeadServer.StartAsync"/>), then <see cref="Follow"/>;
    /// null for a follower of a store without a history yet (<see cref="ForAdapter"/>).
    /// </summary>
    public LeadScorer? First { get; private set; }

    /// <summary>The version <see cref="First"/> is; null without one.</summary>
    public string? FirstVersionId { get; private set; }

    /// <summary>
    /// A follower for a host that serves an adapter of its own because <paramref name="store"/> has no model history yet: it
    /// checks the store every poll and serves the version in force from the moment a history exists, on <paramref name="modelDir"/>.
    /// </summary>
    public static ModelFollower ForAdapter(FeedbackStore store, string cacheDir, string modelDir, DeviceKind kind, int batchSize, Action<string> log,
        Precision precision = Precision.F32) =>
        new(store, cacheDir, modelDir, QwenTokenizer.ForModel(modelDir), kind, precision, batchSize, log);

    /// <summary>This host in the store's heartbeats: machine, process and, once serving, its address.</summary>
    private string HostId => $"{Environment.MachineName} pid {Environment.ProcessId}{(_server is { } s ? $" {s.Address}" : "")}";

    /// <summary>Loads the version in force in the store's model history.</summary>
    /// <param name="store">The store whose history is followed.</param>
    /// <param name="cacheDir">This host's folder of unpacked versions.</param>
    /// <param name="modelDir">The base model; null: the one the version in force names.</param>
    /// <param name="kind">The kind of device each loaded scorer opens.</param>
    /// <param name="batchSize">Leads per forward pass.</param>
    /// <param name="log">Where each change is written.</param>
    /// <param name="precision">The weights' format each loaded scorer scores in (<see cref="ComputeDevice.Precision"/>).</param>
    /// <param name="cancel">Cancels the load.</param>
    public static async Task<ModelFollower> OpenAsync(FeedbackStore store, string cacheDir, string? modelDir, DeviceKind kind, int batchSize,
        Action<string> log, Precision precision = Precision.F32, CancellationToken cancel = default)
    {
        var versions = await ModelVersions.OpenAsync(store, cacheDir, cancel);
        string dir = await versions.DirectoryAsync(versions.Current, cancel);
        modelDir ??= LeadScorer.ModelFor(dir);
        var follower = new ModelFollower(store, cacheDir, modelDir, QwenTokenizer.ForModel(modelDir), kind, precision, batchSize, log);
        follower.First = follower.Load(dir);
        follower.FirstVersionId = versions.Current;
        return follower;
    }

    private LeadScorer Load(string adapterDir)
    {
        var device = ComputeDevice.Open(_kind, precision: _precision);
        device.ScoringOnly = true; // a device per scorer, which only scores (updates train on their own)
        try
        {
            var scorer = LeadScorer.Load(ModelDir, adapterDir, Tokenizer, device: device, batchSize: _batchSize);
            lock (_owned) _owned.Add(scorer, device);
            return scorer;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Starts checking the store every <paramref name="poll"/> for <paramref name="server"/>, which serves <see cref="First"/> (or its own adapter).</summary>
    public void Follow(LeadServer server, TimeSpan poll)
    {
        if (_server is not null) throw new InvalidOperationException("already following a server");
        _server = server;
        server.LastHistoryCheck = (FirstVersionId ?? "", DateTimeOffset.UtcNow, null);
        _loop = PollAsync(poll);
    }

    private Task PollAsync(TimeSpan poll) => Periodic.RunAsync(poll, SyncAsync, e =>
    {
        // The store could not be read: keep serving, say so, and check again next time.
        var last = _server!.LastHistoryCheck;
        _server.LastHistoryCheck = (last?.InForce ?? _server.VersionId ?? "", last?.At ?? DateTimeOffset.UtcNow, $"the store's model history could not be read: {e.Message}");
    }, _stop.Token);

    /// <summary>
    /// Checks the store now and, when the version in force is not the one served, serves it. Returns whether it swapped.
    /// A version that cannot be loaded leaves the served one in place and is reported in <c>/healthz</c> until it can.
    /// </summary>
    public async Task<bool> SyncAsync(CancellationToken cancel = default)
    {
        var server = _server ?? throw new InvalidOperationException("not following a server yet");
        await _oneAtATime.WaitAsync(cancel);
        try
        {
            bool swapped = await ServeInForceAsync(server, cancel);
            // Whatever came of the check, the store hears what this host serves now.
            await BeatAsync(server, cancel);
            return swapped;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Serves the version the store has in force unless it already does; whether it swapped.</summary>
    private async Task<bool> ServeInForceAsync(LeadServer server, CancellationToken cancel)
    {
        var inForce = await _store.CurrentModelAsync(cancel);
        if (inForce is null || inForce.VersionId == server.VersionId)
        {
            server.LastHistoryCheck = (inForce?.VersionId ?? server.VersionId ?? "", DateTimeOffset.UtcNow, null);
            return false;
        }
        // What the store has in force is known now; /healthz shows this host behind it until the swap.
        server.LastHistoryCheck = (inForce.VersionId, DateTimeOffset.UtcNow, null);
        try
        {
            var versions = await ModelVersions.OpenAsync(_store, CacheDir, cancel);
            string dir = await versions.DirectoryAsync(inForce.VersionId, cancel);
            var next = await Task.Run(() => Load(dir), cancel);
            var previous = await server.SwapAsync(next, inForce.VersionId);
            Release(previous);
            _log($"serving {inForce.VersionId} (model {next.ModelVersion}): {inForce.Action} on {inForce.Host}: {inForce.Reason}");
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            server.LastHistoryCheck = (inForce.VersionId, DateTimeOffset.UtcNow, $"{inForce.VersionId} could not be loaded: {e.Message}");
            _log($"still serving {server.VersionId}: {inForce.VersionId} could not be loaded: {e.Message}");
            return false;
        }
    }

    private Task BeatAsync(LeadServer server, CancellationToken cancel) =>
        _store.BeatAsync(new HostHeartbeat(HostId, server.VersionId, server.Scorer.ModelVersion, DateTimeOffset.UtcNow), cancel);

    private void Release(LeadScorer scorer)
    {
        ComputeDevice? device;
        lock (_owned)
            if (!_owned.Remove(scorer, out device)) return;
        scorer.Dispose();
        device.Dispose();
    }

    /// <summary>Stops checking and disposes the scorers it loaded (stop the server first).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        foreach (var scorer in _owned.Keys.ToList()) Release(scorer);
        _stop.Dispose();
        _oneAtATime.Dispose();
    }
}
