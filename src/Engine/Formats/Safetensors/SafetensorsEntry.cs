using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Safetensors;

/// <summary>One tensor's header record. <see cref="Offset"/> is relative to the start of the data section.</summary>
/// <param name="StoredDType">The dtype name as written in the file (F32, BF16, ...).</param>
/// <param name="DType">The dtype <see cref="SafetensorsFile.Load"/> returns, or null when the engine cannot hold it.</param>
public sealed record SafetensorsEntry(string Name, string StoredDType, DType? DType, Shape Shape, long Offset, long Length);
