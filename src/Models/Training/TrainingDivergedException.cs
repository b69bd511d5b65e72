namespace NativeSeg.Models.Training;

/// <summary>A loss term that is NaN or infinite: training stops and the last checkpoint stays as it was.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
