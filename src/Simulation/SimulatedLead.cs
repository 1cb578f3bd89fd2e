using LeadEngine.LeadScoring;

namespace LeadEngine.Simulation;

/// <summary>A simulated lead: what a scorer sees, and the hidden truth that decides its outcomes.</summary>
/// <param name="Lead">Features and dialogue, as in the lead schema (no outcome).</param>
/// <param name="Day">The day it arrived.</param>
/// <param name="Intent">Latent purchase intent z.</param>
/// <param name="Channel">Index into <see cref="SyntheticLeads.ChannelNames"/>.</param>
public sealed record SimulatedLead(Lead Lead, int Day, double Intent, int Channel);
