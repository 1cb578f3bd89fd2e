namespace LeadEngine.Kernels;

/// <summary>Which ILGPU backend runs the kernels.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when present, else OpenCL, else the SIMD CPU backend.</summary>
    Auto,
    /// <summary>
    /// The SIMD CPU backend: multi-threaded System.Numerics.Tensors code over host buffers of ILGPU's
    /// CPU accelerator, behind the same launchers as the kernels (for hosts without a GPU).
    /// </summary>
    Cpu,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator (a debugging backend: exact, slow); what the kernel tests run.</summary>
    IlgpuCpu,
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
    /// <summary>An OpenCL 2.0 device with generic address space (vendor drivers; not PoCL 3.1).</summary>
    OpenCL,
}
