using ILGPU;
using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The device's buffer pool: reuse by length, bounded idle memory, safe after the device is gone.</summary>
public class BufferPoolTests
{
    private static unsafe nint Address(PooledBuffer buffer) => (nint)((ArrayView<float>)buffer.View).LoadEffectiveAddressAsPtr();

    [Fact]
    public void ReturnedBuffersServeTheNextRentalOfTheirLength()
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        nint first;
        using (var a = device.Rent(1000)) first = Address(a);
        using var b = device.Rent(1000);
        Assert.Equal(first, Address(b));
        using var c = device.Rent(1000);
        Assert.NotEqual(first, Address(c));
        Assert.Equal(1000, c.View.Length);
        Assert.Equal(1, device.Rent(0).View.Length);
    }

    [Fact]
    public void IdleBuffersStayWithinTheLargestWorkingSet()
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        foreach (var lengths in new[] { new long[] { 500, 300, 200 }, [400, 400], [700, 100, 100, 100], [500, 300, 200] })
        {
            var rented = lengths.Select(device.Rent).ToList();
            rented.ForEach(b => b.Dispose());
            Assert.InRange(device.IdleFloats, 0, 1000);
        }
        device.ReleasePooledBuffers();
        Assert.Equal(0, device.IdleFloats);
    }

    [Fact]
    public void ABufferReturnedAfterItsDeviceIsDisposedIsFreedAndRentingThenThrows()
    {
        var device = ComputeDevice.Open(DeviceKind.Cpu);
        var buffer = device.Rent(64);
        device.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.View);
        Assert.Throws<ObjectDisposedException>(() => device.Rent(64));
    }
}
