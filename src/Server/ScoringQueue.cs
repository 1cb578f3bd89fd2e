using System.Diagnostics;
using System.Threading.Channels;
using LeadEngine.Engine;
using LeadEngine.LeadScoring;

namespace LeadEngine.Server;

/// <summary>
/// Puts concurrent score requests onto the one model in memory: requests wait in a queue bounded
/// in leads, and one engine thread takes what has gathered (up to the scorer's batch size, whole
/// requests) into each forward pass. Under load, requests that arrive during a pass share the
/// next one; a full queue refuses new requests instead of growing.
/// </summary>
internal sealed class ScoringQueue : IDisposable
{
    private sealed record Job(IReadOnlyList<Lead> Leads, TaskCompletionSource<IReadOnlyList<LeadScore>> Done);

    private readonly LeadScorer _scorer;
    private readonly ServerMetrics _metrics;
    private readonly int _capacity;
    private readonly Channel<Job> _jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _engine;
    private int _queued;

    public ScoringQueue(LeadScorer scorer, ServerMetrics metrics, int capacity)
    {
        _scorer = scorer;
        _metrics = metrics;
        _capacity = capacity;
        _engine = new Thread(Run) { IsBackground = true, Name = "leadengine-scoring" };
        _engine.Start();
    }

    /// <summary>Leads waiting or being scored.</summary>
    public int QueuedLeads => Volatile.Read(ref _queued);

    /// <summary>
    /// Queues <paramref name="leads"/> unless that would take the queue past its capacity (then
    /// null). A request larger than the capacity is still taken when the queue is empty.
    /// </summary>
    public Task<IReadOnlyList<LeadScore>>? TryScore(IReadOnlyList<Lead> leads)
    {
        int after = Interlocked.Add(ref _queued, leads.Count);
        if (after > _capacity && after != leads.Count)
        {
            Interlocked.Add(ref _queued, -leads.Count);
            return null;
        }
        return Enqueue(leads);
    }

    /// <summary>Queues <paramref name="leads"/> whatever the queue holds (the service's own rescoring).</summary>
    public Task<IReadOnlyList<LeadScore>> Score(IReadOnlyList<Lead> leads)
    {
        Interlocked.Add(ref _queued, leads.Count);
        return Enqueue(leads);
    }

    private Task<IReadOnlyList<LeadScore>> Enqueue(IReadOnlyList<Lead> leads)
    {
        _metrics.QueuedLeads.Set(QueuedLeads);
        var job = new Job(leads, new TaskCompletionSource<IReadOnlyList<LeadScore>>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_jobs.Writer.TryWrite(job))
        {
            Interlocked.Add(ref _queued, -leads.Count);
            job.Done.SetException(new ObjectDisposedException(nameof(ScoringQueue)));
        }
        return job.Done.Task;
    }

    private void Run()
    {
        var reader = _jobs.Reader;
        var batch = new List<Job>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            int leads = 0;
            while (leads < _scorer.BatchSize && reader.TryRead(out var job))
            {
                batch.Add(job);
                leads += job.Leads.Count;
            }
            var clock = Stopwatch.StartNew();
            try
            {
                var scores = _scorer.ScoreBatch(batch.SelectMany(j => j.Leads).ToList());
                int offset = 0;
                foreach (var job in batch)
                {
                    job.Done.SetResult(scores.Skip(offset).Take(job.Leads.Count).ToList());
                    offset += job.Leads.Count;
                }
            }
            catch (Exception e)
            {
                foreach (var job in batch) job.Done.TrySetException(e);
            }
            _metrics.BatchSeconds.Observe(clock.Elapsed.TotalSeconds);
            _metrics.BatchSize.Observe(leads);
            _metrics.LeadsScored.Inc(leads);
            Interlocked.Add(ref _queued, -leads);
            _metrics.QueuedLeads.Set(QueuedLeads);
        }
    }

    /// <summary>Lets queued work finish, then stops the engine thread.</summary>
    public void Dispose()
    {
        _jobs.Writer.TryComplete();
        _engine.Join();
    }
}
