namespace LeadEngine.Feedback;

/// <summary>What a serving host last said it serves (<see cref="FeedbackStore.BeatAsync"/>), so that <c>update</c> and <c>rollback</c> can say what each host serves.</summary>
/// <param name="HostId">The host: machine name, process id and listening address.</param>
/// <param name="VersionId">The version of the model history it serves; null while it serves an adapter outside the history.</param>
/// <param name="ModelVersion">The weights' hash it serves.</param>
/// <param name="SeenAt">When it last checked the model history.</param>
public sealed record HostHeartbeat(string HostId, string? VersionId, string ModelVersion, DateTimeOffset SeenAt);
