using LeadEngine.Training;
using Spectre.Console;

namespace LeadEngine.Cli;

/// <summary>
/// Progress of long commands. On a terminal: Spectre.Console's live progress bars (one per training run or
/// scoring pass) with log lines above them. Redirected (a log file, CI, cron): plain lines, one per
/// twentieth of a training run or tenth of a scoring pass, and never a carriage return.
/// </summary>
internal sealed class ConsoleProgress
{
    private readonly IAnsiConsole? _console;
    private readonly ProgressContext? _live;
    private readonly TextWriter _plain;
    private ProgressTask? _task;
    private double _seconds;
    private long _tokens;
    private int _steps, _runs;

    private ConsoleProgress(IAnsiConsole? console, ProgressContext? live, TextWriter plain) => (_console, _live, _plain) = (console, live, plain);

    /// <summary>Runs <paramref name="work"/> with progress on stdout, or on stderr when <paramref name="onError"/> (stdout carries data).</summary>
    public static T Run<T>(Func<ConsoleProgress, T> work, bool onError = false)
    {
        var writer = onError ? Console.Error : Console.Out;
        if (onError ? Console.IsErrorRedirected : Console.IsOutputRedirected) return work(new ConsoleProgress(null, null, writer));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (!console.Profile.Capabilities.Interactive) return work(new ConsoleProgress(null, null, writer));
        return console.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(live => work(new ConsoleProgress(console, live, writer)));
    }

    /// <summary>As <see cref="Run{T}"/>, without a result.</summary>
    public static void Run(Action<ConsoleProgress> work, bool onError = false) => Run(p =>
    {
        work(p);
        return 0;
    }, onError);

    /// <summary>One training step; step 1 starts a new run (a fold, the final model).</summary>
    public void Report(TrainStepReport r)
    {
        if (r.Step == 1 || _task is null && _live is not null)
        {
            (_seconds, _tokens, _steps) = (0, 0, 0);
            _task = _live?.AddTask($"training run {++_runs}", maxValue: r.TotalSteps);
        }
        _seconds += r.Seconds;
        _tokens += r.Tokens;
        _steps++;
        string detail = $"loss {r.Loss.Total:F4} (bce {r.Loss.Bce:F4} hpro {r.Loss.Hpro:F4} lm {r.Loss.Lm:F4}) |g| {r.Optimizer.GradNorm:F3} " +
            $"lr {r.Optimizer.HeadRate:E1} | {_tokens / Math.Max(_seconds, 1e-9):F0} tok/s";
        if (_task is not null)
        {
            _task.Description = Markup.Escape($"step {r.Step}/{r.TotalSteps} {detail}");
            _task.Value = r.Step;
            return;
        }
        if (r.Step == 1 || r.Step == r.TotalSteps || r.Step % Math.Max(1, r.TotalSteps / 20) == 0)
            _plain.WriteLine($"step {r.Step}/{r.TotalSteps} {detail} | ETA {TimeSpan.FromSeconds(_seconds / _steps * (r.TotalSteps - r.Step)):hh\\:mm\\:ss}");
    }

    /// <summary><paramref name="done"/> of <paramref name="total"/> <paramref name="items"/> handled after <paramref name="seconds"/>.</summary>
    public void Count(string verb, string items, long done, long before, long total, double seconds)
    {
        double rate = done / Math.Max(seconds, 1e-9);
        string line = $"{verb} {done}/{total} {items} | {rate:F1} {items}/s";
        if (_live is not null)
        {
            _task ??= _live.AddTask(verb, maxValue: total);
            _task.Description = Markup.Escape(line);
            _task.Value = done;
            return;
        }
        if (done == total || 10L * done / total > 10L * before / total)
            _plain.WriteLine($"{line} | ETA {TimeSpan.FromSeconds((total - done) / Math.Max(rate, 1e-9)):hh\\:mm\\:ss}");
    }

    /// <summary>A log line (above the live bars on a terminal).</summary>
    public void Line(string text)
    {
        if (_console is not null) _console.WriteLine(text);
        else _plain.WriteLine(text);
    }
}
