namespace LeadEngine.Training;

/// <summary>Linear warmup, then cosine, linear or no decay.</summary>
/// <param name="WarmupSteps">Steps of linear warmup from lr/warmup to lr.</param>
/// <param name="TotalSteps">Step at which decay reaches zero.</param>
/// <param name="Decay">Decay after warmup.</param>
public sealed record LearningRateSchedule(int WarmupSteps, int TotalSteps, DecayKind Decay = DecayKind.Cosine)
{
    /// <summary>The multiplier of the base rate at 1-based <paramref name="step"/>.</summary>
    public double Factor(int step)
    {
        if (WarmupSteps > 0 && step <= WarmupSteps) return (double)step / WarmupSteps;
        if (Decay == DecayKind.Constant || TotalSteps <= WarmupSteps) return 1.0;
        double progress = Math.Clamp((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps), 0, 1);
        return Decay == DecayKind.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * progress)) : 1 - progress;
    }
}
