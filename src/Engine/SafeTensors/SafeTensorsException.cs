namespace LeadEngine.Engine.SafeTensors;

/// <summary>A safetensors file (or a tensor in it) is malformed or not what the model needs.</summary>
public sealed class SafeTensorsException : Exception
{
    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>The tensor at fault, when one is.</summary>
    public string? TensorName { get; }

    /// <summary>Creates the exception; the message names the file and, if given, the tensor.</summary>
    public SafeTensorsException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}", inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }
}
