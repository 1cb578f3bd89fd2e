using System.Diagnostics;
using System.Threading.Channels;
using LeadEngine.Engine;
using LeadEngine.LeadScoring;

namespace LeadEngine.Server;

/// <summary>
/// The service's one place for batching and concurrency: every forward pass the service runs (scores, rescoring
/// for call lists, explanations' occlusions) goes through this queue. Requests wait in a queue bounded in leads,
/// and one engine thread fills each forward pass with up to the scorer's batch size of leads, in arrival order,
/// splitting a large request across passes, so requests that arrive during a long one (an explanation) share the
/// next pass instead of waiting for all of it. A full queue refuses new requests instead of growing.
/// </summary>
internal sealed class ScoringQueue : IDisposable
{
    /// <summary>A request's leads, the scores of those done so far, and its completion.</summary>
    private sealed class Job(IReadOnlyList<Lead> leads, CancellationToken cancel)
    {
        public IReadOnlyList<Lead> Leads { get; } = leads;
        /// <summary>Cancelled when the client has gone: the rest of its slices are not scored.</summary>
        public CancellationToken Cancel { get; } = cancel;
        public List<LeadScore> Scores { get; } = new(leads.Count);
        public TaskCompletionSource<IReadOnlyList<LeadScore>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

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
    public Task<IReadOnlyList<LeadScore>>? TryScore(IReadOnlyList<Lead> leads, CancellationToken cancel = default)
    {
        int after = Interlocked.Add(ref _queued, leads.Count);
        if (after > _capacity && after != leads.Count)
        {
            Interlocked.Add(ref _queued, -leads.Count);
            return null;
        }
        return Enqueue(leads, cancel);
    }

    /// <summary>
    /// Queues <paramref name="leads"/> whatever the queue holds (the service's own rescoring, explanations' occlusions);
    /// <paramref name="cancel"/> drops what is not scored yet.
    /// </summary>
    public Task<IReadOnlyList<LeadScore>> Score(IReadOnlyList<Lead> leads, CancellationToken cancel = default)
    {
        Interlocked.Add(ref _queued, leads.Count);
        return Enqueue(leads, cancel);
    }

    private Task<IReadOnlyList<LeadScore>> Enqueue(IReadOnlyList<Lead> leads, CancellationToken cancel)
    {
        _metrics.QueuedLeads.Set(QueuedLeads);
        var job = new Job(leads, cancel);
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
        var waiting = new Queue<Job>();
        while (waiting.Count > 0 || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var job)) waiting.Enqueue(job);
            // One pass: the next leads in arrival order, up to the batch size (a slice of a large request).
            var pass = new List<(Job Job, int Start, int Count)>();
            int leads = 0;
            foreach (var job in waiting)
            {
                if (leads == _scorer.BatchSize) break;
                if (job.Cancel.IsCancellationRequested) job.Done.TrySetCanceled(job.Cancel);
                if (job.Done.Task.IsCompleted) continue; // failed in an earlier pass, or its client has gone
                int start = job.Scores.Count, count = Math.Min(job.Leads.Count - start, _scorer.BatchSize - leads);
                pass.Add((job, start, count));
                leads += count;
            }
            var clock = Stopwatch.StartNew();
            if (leads > 0) ScorePass(pass);
            while (waiting.TryPeek(out var head) && (head.Done.Task.IsCompleted || head.Scores.Count == head.Leads.Count))
            {
                waiting.Dequeue();
                head.Done.TrySetResult(head.Scores);
                Interlocked.Add(ref _queued, -head.Leads.Count);
            }
            _metrics.BatchSeconds.Observe(clock.Elapsed.TotalSeconds);
            _metrics.BatchSize.Observe(leads);
            _metrics.LeadsScored.Inc(leads);
            _metrics.QueuedLeads.Set(QueuedLeads);
        }
    }

    /// <summary>One forward pass over the slices of <paramref name="pass"/>; each job gets its slice's scores, or the error.</summary>
    private void ScorePass(List<(Job Job, int Start, int Count)> pass)
    {
        try
        {
            var scores = _scorer.ScoreBatch(pass.SelectMany(p => p.Job.Leads.Skip(p.Start).Take(p.Count)).ToList());
            int offset = 0;
            foreach (var (job, _, count) in pass)
            {
                job.Scores.AddRange(scores.Skip(offset).Take(count));
                offset += count;
            }
        }
        catch (Exception e)
        {
            foreach (var (job, _, _) in pass) job.Done.TrySetException(e);
        }
    }

    /// <summary>Lets queued work finish, then stops the engine thread.</summary>
    public void Dispose()
    {
        _jobs.Writer.TryComplete();
        _engine.Join();
    }
}
