namespace NativeSeg.Models.Training.Data;

/// <summary>Training data that cannot be used as given; the message names the file, image or annotation at fault.</summary>
public sealed class TrainingDataException(string message, Exception? inner = null) : Exception(message, inner);
