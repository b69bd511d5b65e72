namespace NativeSeg.Layers;

/// <summary>
/// The precision a model compiled for inference computes in. <see cref="Fp16"/> (a CUDA device only) holds the
/// weights of convolutions and fully connected layers in float16, converted once after BatchNorm folding, and runs
/// those layers with half operands, float accumulation and half outputs (cuDNN's pseudo-half convolution,
/// cublasGemmEx with CUBLAS_COMPUTE_32F). Everything else stays in float: activations between layers, biases and
/// ReLUs (applied in float to the widened half output), residual adds, pooling, FPN upsampling,
/// RoIAlign's bilinear sums, transposed convolutions and the mask head's deconvolution, normalisation statistics
/// (GroupNorm), softmax and sigmoid, box decoding, NMS and mask pasting, whose sums, exponentials or coordinate
/// arithmetic lose detections or boxes in half precision while costing little time.
/// </summary>
public enum InferencePrecision
{
    Fp32,
    Fp16,
}
