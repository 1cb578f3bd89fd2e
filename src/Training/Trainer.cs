using LeadEngine.Engine;
using System.Diagnostics;

namespace LeadEngine.Training;

/// <summary>
/// Trains LoRA adapters and the score heads on a frozen backbone: cycles through the training
/// batches in a seeded order, accumulates gradients, steps AdamW, evaluates and checkpoints.
/// Same seeds and inputs give the same run; a run resumed from a checkpoint continues exactly.
/// </summary>
public sealed class Trainer(QwenModel model, LoraAdapter adapter, ScoreHeads heads, LeadObjective objective, AdamW optimizer, TrainerOptions options)
{
    /// <summary>Runs from the optimizer's current step to <see cref="TrainerOptions.Steps"/>, yielding a report per step.</summary>
    public IEnumerable<TrainStepReport> Run(IReadOnlyList<ObjectiveBatch> train, IReadOnlyList<ObjectiveBatch>? eval = null)
    {
        if (train.Count == 0) throw new ArgumentException("no training batches");
        var order = new BatchOrder(train.Count, options.Seed);
        order.Skip(optimizer.StepCount * options.Accumulate);
        while (optimizer.StepCount < options.Steps)
        {
            var clock = Stopwatch.StartNew();
            double bce = 0, hpro = 0, lm = 0, total = 0;
            int tokens = 0;
            for (int micro = 0; micro < options.Accumulate; micro++)
            {
                var batch = train[order.Next()];
                var loss = objective.Evaluate(model, adapter, heads, batch, backward: true, options.Recompute);
                bce += loss.Bce; hpro += loss.Hpro; lm += loss.Lm; total += loss.Total;
                tokens += batch.Sequences.Sum(s => s.Length);
            }
            var step = optimizer.Step(options.Accumulate);
            int n = options.Accumulate;
            LossTerms? evalLoss = null;
            if (eval is { Count: > 0 } && options.EvalEvery > 0 && (step.Step % options.EvalEvery == 0 || step.Step == options.Steps))
                evalLoss = Evaluate(eval);
            if (options.OutputDirectory is not null && (step.Step == options.Steps || options.SaveEvery > 0 && step.Step % options.SaveEvery == 0))
                AdapterCheckpoint.Save(options.OutputDirectory, adapter, heads, optimizer, options.BaseModel);
            yield return new TrainStepReport(step.Step, options.Steps, new LossTerms(bce / n, hpro / n, lm / n, total / n), step, tokens, clock.Elapsed.TotalSeconds, evalLoss);
        }
        // The steps' activations stay pooled between steps; scoring after training needs far less.
        model.Device.ReleasePooledBuffers();
    }

    /// <summary>Losses over <paramref name="batches"/> (weighted by batch size), no gradients.</summary>
    public LossTerms Evaluate(IReadOnlyList<ObjectiveBatch> batches)
    {
        double bce = 0, hpro = 0, lm = 0, total = 0, count = 0;
        foreach (var batch in batches)
        {
            var loss = objective.Evaluate(model, adapter, heads, batch, backward: false);
            int n = batch.Sequences.Length;
            bce += loss.Bce * n; hpro += loss.Hpro * n; lm += loss.Lm * n; total += loss.Total * n; count += n;
        }
        return new LossTerms(bce / count, hpro / count, lm / count, total / count);
    }

    /// <summary>Seeded epoch-wise shuffles of batch indices.</summary>
    private sealed class BatchOrder(int count, int seed)
    {
        private readonly Random _rng = new(seed);
        private int[] _epoch = [];
        private int _position;

        public int Next()
        {
            if (_position == _epoch.Length)
            {
                _epoch = Enumerable.Range(0, count).ToArray();
                _rng.Shuffle(_epoch);
                _position = 0;
            }
            return _epoch[_position++];
        }

        public void Skip(int n)
        {
            for (int i = 0; i < n; i++) Next();
        }
    }
}
