using System.Diagnostics;
using System.Text;

namespace LeadEngine.Tests.Serving;

/// <summary><c>leadengine serve</c> as its own process, as a user starts it.</summary>
internal static class ServeProcess
{
    /// <summary>Starts <c>leadengine serve ARGS</c> and returns it with its address once it listens (it fails with the server's standard error).</summary>
    public static (Process Process, Uri Address) Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "leadengine.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "serve", "--port", "0", "--device", "cpu", .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Fixtures.RepoRoot,
        };
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        // Read standard output to its end in the background (a full pipe would stall the server), noting the address.
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
                if (line.StartsWith("listening on ", StringComparison.Ordinal)) listening.TrySetResult(new Uri(line["listening on ".Length..]));
            listening.TrySetException(new InvalidOperationException("serve exited before listening"));
        });
        try
        {
            if (listening.Task.Wait(TimeSpan.FromSeconds(90))) return (process, listening.Task.Result);
        }
        catch (AggregateException)
        {
            // reported below with the server's standard error
        }
        process.Kill();
        lock (stderr) throw new InvalidOperationException($"serve did not start: {stderr}");
    }
}
