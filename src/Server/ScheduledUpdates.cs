using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using LeadEngine.LeadScoring;

namespace LeadEngine.Server;

/// <summary>
/// <c>leadengine update</c> inside <c>serve</c>: every <c>interval</c> an update runs on the store's
/// outcomes, and a promoted version starts serving at once (<see cref="LeadServer.SwapAsync"/>).
/// Training and each new scorer get compute devices of their own, so nothing is shared with the
/// scorer that is serving meanwhile.
/// </summary>
public sealed class ScheduledUpdates : IAsyncDisposable
{
    private readonly LeadServer _server;
    private readonly FeedbackStore _store;
    private readonly string _home, _modelDir;
    private readonly QwenTokenizer _tokenizer;
    private readonly DeviceKind _kind;
    private readonly UpdateOptions _options;
    private readonly Action<string> _log;
    private readonly HashSet<LeadScorer> _owned = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly Task _loop;

    /// <param name="server">The server whose model is replaced on promotion.</param>
    /// <param name="store">Where the outcomes are.</param>
    /// <param name="home">The version home (<see cref="ModelVersions"/>).</param>
    /// <param name="modelDir">The base model.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="kind">The kind of device that training and new scorers open.</param>
    /// <param name="options">Update settings.</param>
    /// <param name="interval">Time between updates; null: only <see cref="RunOnceAsync"/>.</param>
    /// <param name="log">Where each update's result is written.</param>
    public ScheduledUpdates(LeadServer server, FeedbackStore store, string home, string modelDir, QwenTokenizer tokenizer, DeviceKind kind,
        UpdateOptions options, TimeSpan? interval, Action<string> log)
    {
        (_server, _store, _home, _modelDir, _tokenizer, _kind, _options, _log) = (server, store, home, modelDir, tokenizer, kind, options, log);
        _loop = interval is { } every ? RunEveryAsync(every) : Task.CompletedTask;
    }

    private async Task RunEveryAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    await RunOnceAsync(_stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log($"update failed: {e.Message}"); // the serving model stays; the next tick tries again
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>Runs one update now and, when its candidate is promoted, serves it.</summary>
    public async Task<UpdateResult> RunOnceAsync(CancellationToken cancel = default)
    {
        await _oneAtATime.WaitAsync(cancel);
        try
        {
            var versions = ModelVersions.Open(_home);
            UpdateResult result;
            using (var training = ComputeDevice.Open(_kind))
                result = await Task.Run(() => Updater.RunAsync(versions, _store, _modelDir, _tokenizer, training, _options, DateTimeOffset.UtcNow, _log, cancel), cancel);
            _log(result.Version is null ? $"update: no candidate ({result.Reason})" : $"update: {result.Version} {result.Reason}");
            if (result.Promoted)
            {
                var next = LeadScorer.Load(_modelDir, versions.Directory(versions.Current), _tokenizer, device: null, batchSize: _server.Scorer.BatchSize);
                _owned.Add(next);
                var previous = await _server.SwapAsync(next);
                if (_owned.Remove(previous)) previous.Dispose();
                _log($"serving {versions.Current} (model {next.ModelVersion})");
            }
            return result;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Stops the schedule and disposes the scorers it loaded (stop the server first).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        foreach (var scorer in _owned) scorer.Dispose();
        _owned.Clear();
        _stop.Dispose();
        _oneAtATime.Dispose();
    }
}
