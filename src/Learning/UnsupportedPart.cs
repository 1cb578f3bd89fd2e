namespace LeadEngine.Learning;

/// <summary>
/// The part of a target's value a list's logs cannot weigh: over the candidates with too little logged chance, the
/// least and the most it can be with rewards in [0, 1] (Σ min(0, π), Σ max(0, π)), and the reward model's value there.
/// </summary>
/// <param name="Low">Σ min(0, π_target) over the unsupported candidates.</param>
/// <param name="High">Σ max(0, π_target) over them.</param>
/// <param name="ModelValue">Σ π_target·r̂ over them.</param>
/// <param name="TargetMass">Σ |π_target| over every candidate of the list, so that (High − Low) / TargetMass is the share the logs cannot weigh.</param>
public sealed record UnsupportedPart(double Low, double High, double ModelValue, double TargetMass);
