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
/// <see cref="Bf16"/> (the CPU only, with AVX512_BF16) packs the weights of convolutions in bf16 once at load, after
/// BatchNorm folding, and runs those convolutions on the CPU's bf16 implicit GEMM: each gathered input panel rounded to
/// bf16 (nearest even), float accumulation, bias and ReLU in float on the float sum. Convolutions whose maps are large
/// enough for Winograd keep fp32 Winograd, as fast there and exact to float; everything else stays float as for fp16.
/// </summary>
public enum InferencePrecision
{
    Fp32,
    Fp16,
    Bf16,
}
