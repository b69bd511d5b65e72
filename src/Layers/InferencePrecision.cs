namespace NativeSeg.Layers;

/// <summary>
/// The precision a model compiled for inference computes in. <see cref="Fp16"/> (a CUDA device only) holds the
/// weights of convolutions and fully connected layers in float16, converted once after BatchNorm folding, and runs
/// those layers with half operands, float accumulation and half outputs (cuDNN's pseudo-half convolution,
/// cublasGemmEx with CUBLAS_COMPUTE_32F). Everything else stays in float: the activations between layers (so each half
/// layer rounds its input and widens its output), biases and ReLUs, residual adds, pooling, FPN upsampling and the mask
/// head's transposed convolution, because they have no half kernels yet; RoIAlign's bilinear sums, normalisation
/// statistics (GroupNorm), softmax and sigmoid, box decoding, NMS and mask pasting, because their sums, exponentials
/// and coordinates would move scores and boxes in half precision, for little time saved.
/// </summary>
public enum InferencePrecision
{
    Fp32,
    Fp16,
}
