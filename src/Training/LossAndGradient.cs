namespace LeadEngine.Training;

/// <summary>A loss value and its gradient with respect to its inputs.</summary>
/// <param name="Value">The loss.</param>
/// <param name="Gradient">dLoss/dinput, one entry per input.</param>
public sealed record LossAndGradient(double Value, float[] Gradient);
