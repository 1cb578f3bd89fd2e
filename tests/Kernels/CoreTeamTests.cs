using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The SIMD backend's parallel loop: every index once, errors surfaced, nesting and concurrent callers safe.</summary>
public class CoreTeamTests
{
    [Fact]
    public void EveryIndexRunsExactlyOnceBackToBackAndAfterTheWorkersSleep()
    {
        for (int loop = 0; loop < 60; loop++)
        {
            int count = 1 + loop * 37 % 500;
            var hits = new int[count];
            CoreTeam.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
            // Past the workers' spin time now and then, so loops also start from sleeping workers.
            if (loop % 20 == 19) Thread.Sleep(30);
        }
    }

    [Fact]
    public void RethrowsTheBodysExceptionAndKeepsWorking()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            CoreTeam.For(100, i => { if (i == 37) throw new InvalidOperationException("index 37"); }));
        Assert.Equal("index 37", error.Message);
        int sum = 0;
        CoreTeam.For(100, i => Interlocked.Add(ref sum, i));
        Assert.Equal(4950, sum);
    }

    [Fact]
    public void NestedLoopsAndConcurrentCallersComplete()
    {
        var hits = new int[8 * 16 * 32];
        Parallel.For(0, 8, caller =>
            CoreTeam.For(16, outer =>
                CoreTeam.For(32, inner => Interlocked.Increment(ref hits[(caller * 16 + outer) * 32 + inner]))));
        Assert.All(hits, h => Assert.Equal(1, h));
    }
}
