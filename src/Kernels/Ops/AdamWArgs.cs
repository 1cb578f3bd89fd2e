namespace LeadEngine.Kernels;

/// <summary>Hyper-parameters of one AdamW update.</summary>
public struct AdamWArgs
{
    /// <summary>Learning rate of this step (schedule and group applied).</summary>
    public float LearningRate;
    /// <summary>First-moment decay β1.</summary>
    public float Beta1;
    /// <summary>Second-moment decay β2.</summary>
    public float Beta2;
    /// <summary>Denominator epsilon.</summary>
    public float Eps;
    /// <summary>Decoupled weight decay.</summary>
    public float WeightDecay;
    /// <summary>1 − β1^t.</summary>
    public float BiasCorrection1;
    /// <summary>√(1 − β2^t).</summary>
    public float BiasCorrection2Sqrt;
    /// <summary>Multiplier on the raw gradient (clipping and 1/accumulation).</summary>
    public float GradientScale;

    /// <summary>
    /// One element's update, as torch.optim.AdamW: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
    /// p ← p − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + eps), with g = scale·grad. Returns the new p. Every backend
    /// runs this one definition (the ILGPU kernel per thread, the SIMD backend per element).
    /// </summary>
    public readonly float Step(float p, float grad, ref float m, ref float v)
    {
        float g = grad * GradientScale;
        float param = p * (1f - LearningRate * WeightDecay);
        m = Beta1 * m + (1f - Beta1) * g;
        v = Beta2 * v + (1f - Beta2) * g * g;
        return param - LearningRate / BiasCorrection1 * m / (MathF.Sqrt(v) / BiasCorrection2Sqrt + Eps);
    }
}
