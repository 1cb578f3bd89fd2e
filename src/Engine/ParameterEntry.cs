namespace LeadEngine.Engine;

/// <summary>One named tensor inside a <see cref="ParameterSet"/>.</summary>
/// <param name="Name">Checkpoint name (PEFT naming for LoRA, <c>score.*</c> for heads).</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Offset">First element in the set's flat buffer.</param>
public sealed record ParameterEntry(string Name, long[] Shape, long Offset)
{
    /// <summary>Number of elements.</summary>
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);
}
