namespace LeadEngine.Training;

/// <summary>A batch in the golden.json format with its LoRA settings and loss weights.</summary>
/// <param name="Batch">The objective batch.</param>
/// <param name="Weights">Loss weights.</param>
/// <param name="LoraRank">LoRA rank r.</param>
/// <param name="LoraAlpha">LoRA alpha.</param>
public sealed record GoldenBatch(ObjectiveBatch Batch, LossWeights Weights, int LoraRank, float LoraAlpha);
