namespace NativeSeg.Models.Training;

/// <summary>One finished iteration, as the progress line and metrics.jsonl report it.</summary>
public sealed record IterationReport(int Iteration, int Total, float LearningRate, double Loss, IReadOnlyList<(string Name, double Value)> Terms, double Seconds);
