namespace LeadEngine.Server;

/// <summary>Background work on a timer, as the service's schedules run it.</summary>
internal static class Periodic
{
    /// <summary>
    /// Runs <paramref name="work"/> every <paramref name="every"/> until <paramref name="stop"/>; a run that fails is
    /// reported to <paramref name="failed"/> and the next tick tries again.
    /// </summary>
    public static async Task RunAsync(TimeSpan every, Func<CancellationToken, Task> work, Action<Exception> failed, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await work(stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
