namespace LeadEngine.Engine;

/// <summary>A model folder's configuration is missing, malformed or inconsistent.</summary>
public sealed class ModelConfigException(string message) : Exception(message);
