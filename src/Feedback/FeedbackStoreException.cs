namespace LeadEngine.Feedback;

/// <summary>The database cannot be used by this version (schema newer than this build, or unreachable).</summary>
public sealed class FeedbackStoreException(string message, Exception? inner = null) : Exception(message, inner);
