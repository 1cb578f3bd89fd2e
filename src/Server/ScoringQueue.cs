using System.Diagnostics;
using System.Threading.Channels;
using LeadEngine.Engine;
using LeadEngine.LeadScoring;

namespace LeadEngine.Server;

/// <summary>
/// The service's one place for batching and concurrency: every forward pass the service runs (scores, rescoring
/// for call lists, explanations' occlusions) goes through this queue. Requests wait in a queue bounded in leads,
/// and one engine thread fills each forward pass with up to the scorer's batch size of leads, dealt round-robin over
/// the waiting requests in arrival order (one lead each in turn), so a request that arrives during a long one is in the
/// very next pass. Explanations' occlusions run in the passes no ordinary request waits for, one lead each, so a
/// one-lead score waits at most for one explanation pass of one prompt. A full queue refuses new
/// requests instead of growing. Explanations reserve their whole cost (the leads and every occlusion) before any work
/// starts, from at most half the capacity, so that they can never fill the queue for everyone else.
/// </summary>
internal sealed class ScoringQueue : IDisposable
{
    /// <summary>
    /// Queue room taken for a whole explanation before it starts (<see cref="TryReserveExplanation"/>): its jobs draw on it instead
    /// of being admitted one by one; what it did not use goes back when it is disposed.
    /// </summary>
    public sealed class Reservation : IDisposable
    {
        private readonly ScoringQueue _queue;
        private int _remaining;

        internal Reservation(ScoringQueue queue, int leads) => (_queue, _remaining) = (queue, leads);

        /// <summary>The queue it is room in.</summary>
        public ScoringQueue Queue => _queue;

        /// <summary>Takes room for <paramref name="leads"/>; more than was reserved is taken too (and counted).</summary>
        internal void Take(int leads)
        {
            int beyond = leads - Math.Max(0, Interlocked.Add(ref _remaining, -leads) + leads);
            if (beyond > 0) _queue.Add(beyond, explaining: true);
        }

        /// <summary>Gives back the room not used.</summary>
        public void Dispose()
        {
            int left = Interlocked.Exchange(ref _remaining, 0);
            if (left > 0) _queue.Add(-left, explaining: true);
        }
    }

    /// <summary>A request's leads, the scores of those done so far, and its completion.</summary>
    private sealed class Job(IReadOnlyList<Lead> leads, CancellationToken cancel, bool explaining)
    {
        public IReadOnlyList<Lead> Leads { get; } = leads;
        /// <summary>Part of an explanation: counted against the explanations' share while it waits.</summary>
        public bool Explaining { get; } = explaining;
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
    private int _queued, _explaining;

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

    /// <summary>The most leads explanations may hold in the queue at once (unless none is in it).</summary>
    public int ExplanationCapacity => Math.Max(1, _capacity / 2);

    private void Add(int leads, bool explaining)
    {
        Interlocked.Add(ref _queued, leads);
        if (explaining) Interlocked.Add(ref _explaining, leads);
        _metrics.QueuedLeads.Set(QueuedLeads);
    }

    /// <summary>
    /// Room for an explanation of <paramref name="leads"/> leads and occlusions in all, from the explanations' share of the
    /// queue (<see cref="ExplanationCapacity"/>), or null when the explanations in the queue hold it; an explanation larger
    /// than the share is still taken when no other is in the queue.
    /// </summary>
    public Reservation? TryReserveExplanation(int leads)
    {
        int after = Interlocked.Add(ref _explaining, leads);
        if (after > ExplanationCapacity && after != leads)
        {
            Interlocked.Add(ref _explaining, -leads);
            return null;
        }
        Interlocked.Add(ref _queued, leads);
        _metrics.QueuedLeads.Set(QueuedLeads);
        return new Reservation(this, leads);
    }

    /// <summary>Queues <paramref name="leads"/> of an explanation in the room <paramref name="reservation"/> took for them.</summary>
    public Task<IReadOnlyList<LeadScore>> Score(IReadOnlyList<Lead> leads, Reservation reservation, CancellationToken cancel = default)
    {
        reservation.Take(leads.Count);
        return Enqueue(leads, cancel, explaining: true);
    }

    /// <summary>
    /// Queues <paramref name="leads"/> unless that would take the queue's other work (all but explanations, which have a
    /// share of their own) past its capacity (then null). A request larger than the capacity is still taken when no other
    /// work is queued.
    /// </summary>
    public Task<IReadOnlyList<LeadScore>>? TryScore(IReadOnlyList<Lead> leads, CancellationToken cancel = default)
    {
        int after = Interlocked.Add(ref _queued, leads.Count) - Volatile.Read(ref _explaining);
        if (after > _capacity && after != leads.Count)
        {
            Interlocked.Add(ref _queued, -leads.Count);
            return null;
        }
        return Enqueue(leads, cancel, explaining: false);
    }

    /// <summary>
    /// Queues <paramref name="leads"/> whatever the queue holds (the service's own rescoring, explanations' occlusions);
    /// <paramref name="cancel"/> drops what is not scored yet.
    /// </summary>
    public Task<IReadOnlyList<LeadScore>> Score(IReadOnlyList<Lead> leads, CancellationToken cancel = default)
    {
        Interlocked.Add(ref _queued, leads.Count);
        return Enqueue(leads, cancel, explaining: false);
    }

    private Task<IReadOnlyList<LeadScore>> Enqueue(IReadOnlyList<Lead> leads, CancellationToken cancel, bool explaining)
    {
        _metrics.QueuedLeads.Set(QueuedLeads);
        var job = new Job(leads, cancel, explaining);
        if (!_jobs.Writer.TryWrite(job))
        {
            Add(-leads.Count, explaining);
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
            foreach (var job in waiting)
                if (job.Cancel.IsCancellationRequested) job.Done.TrySetCanceled(job.Cancel);
            var pass = Deal(waiting.Where(j => !j.Done.Task.IsCompleted).ToList()); // failed in an earlier pass, or its client has gone
            int leads = pass.Sum(p => p.Count);
            var clock = Stopwatch.StartNew();
            if (leads > 0) ScorePass(pass);
            // Finished requests leave the queue wherever they stand in it.
            int before = waiting.Count;
            for (int i = 0; i < before; i++)
            {
                var job = waiting.Dequeue();
                if (!job.Done.Task.IsCompleted && job.Scores.Count < job.Leads.Count) { waiting.Enqueue(job); continue; }
                job.Done.TrySetResult(job.Scores);
                Add(-job.Leads.Count, job.Explaining);
            }
            _metrics.BatchSeconds.Observe(clock.Elapsed.TotalSeconds);
            _metrics.BatchSize.Observe(leads);
            _metrics.LeadsScored.Inc(leads);
            _metrics.QueuedLeads.Set(QueuedLeads);
        }
    }

    /// <summary>
    /// Leads per explanation pass: one. A dialogue's occlusions have prompts up to the token budget (2,000), so one is already a
    /// full product for the engine, and a pass of one is the shortest an ordinary request can find in flight (the queue does not
    /// know prompt lengths; passes sized by tokens would let short explanations batch).
    /// </summary>
    private const int ExplanationPassSize = 1;

    /// <summary>
    /// One pass: leads dealt round-robin over <paramref name="jobs"/> in arrival order, one lead each in turn, as a contiguous slice of
    /// each job (from where its scores stop). Ordinary requests go first and alone, up to the batch size: a pass mixing a one-lead score
    /// with explanation variants would cost what the variants cost (their long prompts pad it). Explanations get the passes no ordinary
    /// request waits for, one lead each (<see cref="ExplanationPassSize"/>), so that the pass an ordinary request may find in flight is short.
    /// </summary>
    private List<(Job Job, int Start, int Count)> Deal(List<Job> jobs)
    {
        var ordinary = jobs.Where(j => !j.Explaining).ToList();
        (jobs, int size) = ordinary.Count > 0 ? (ordinary, _scorer.BatchSize) : (jobs, ExplanationPassSize);
        var counts = new int[jobs.Count];
        int dealt = 0;
        for (bool any = true; any && dealt < size;)
        {
            any = false;
            for (int j = 0; j < jobs.Count && dealt < size; j++)
                if (jobs[j].Scores.Count + counts[j] < jobs[j].Leads.Count)
                {
                    counts[j]++;
                    dealt++;
                    any = true;
                }
        }
        return jobs.Select((job, j) => (job, job.Scores.Count, counts[j])).Where(p => p.Item3 > 0).ToList();
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
