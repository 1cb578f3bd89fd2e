using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;

namespace LeadEngine.Server;

/// <summary>
/// <c>leadengine update</c> inside <c>serve</c>: every <c>interval</c> an update runs on the store's outcomes
/// (<see cref="Updater"/>, under the store's update lock, so hosts on one store take turns and make one version per
/// half interval at most), and a promoted version is served at once through the <see cref="ModelFollower"/>; the other
/// hosts pick it up at their next check. Training has a compute device of its own, so nothing is shared with the
/// scorer that serves meanwhile.
/// </summary>
public sealed class ScheduledUpdates : IAsyncDisposable
{
    private readonly ModelFollower _follower;
    private readonly FeedbackStore _store;
    private readonly DeviceKind _kind;
    private readonly UpdateOptions _options;
    private readonly Action<string> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="follower">Serves what an update promotes.</param>
    /// <param name="store">Where the outcomes and the model history are.</param>
    /// <param name="kind">The kind of device that training opens.</param>
    /// <param name="options">Update settings.</param>
    /// <param name="interval">Time between updates; null: only <see cref="RunOnceAsync"/>.</param>
    /// <param name="log">Where each update's result is written.</param>
    public ScheduledUpdates(ModelFollower follower, FeedbackStore store, DeviceKind kind, UpdateOptions options, TimeSpan? interval, Action<string> log)
    {
        (_follower, _store, _kind, _log) = (follower, store, kind, log);
        _options = interval is { } every ? options with { NotWithin = options.NotWithin ?? every / 2 } : options;
        _loop = interval is { } period ? RunEveryAsync(period) : Task.CompletedTask;
    }

    // A failed update leaves the serving model in place; the next tick tries again.
    private Task RunEveryAsync(TimeSpan every) => Periodic.RunAsync(every, RunOnceAsync, e => _log($"update failed: {e.Message}"), _stop.Token);

    /// <summary>Runs one update now and, when its candidate is promoted, serves it.</summary>
    public async Task<UpdateResult> RunOnceAsync(CancellationToken cancel = default)
    {
        UpdateResult result;
        using (var training = ComputeDevice.Open(_kind))
            result = await Task.Run(() => Updater.RunAsync(_store, _follower.CacheDir, _follower.ModelDir, _follower.Tokenizer, training, _options,
                DateTimeOffset.UtcNow, _log, cancel), cancel);
        _log(result.Version is null ? $"update: no candidate ({result.Reason})" : $"update: {result.Version} {result.Reason}");
        if (result.Promoted) await _follower.SyncAsync(cancel);
        return result;
    }

    /// <summary>Stops the schedule.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
