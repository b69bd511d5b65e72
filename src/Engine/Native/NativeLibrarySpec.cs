namespace NativeSeg.Engine.Native;

/// <summary>A native library we may load, with the versioned sonames to try, newest first.</summary>
public sealed record NativeLibrarySpec(string DisplayName, IReadOnlyList<string> Sonames)
{
    /// <summary>Always <c>.so.1</c>: the unversioned name exists only with development packages.</summary>
    public static NativeLibrarySpec CudaDriver { get; } = new("CUDA driver", ["libcuda.so.1"]);

    public static NativeLibrarySpec Nvrtc { get; } = new("NVRTC", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]);

    public static NativeLibrarySpec Cublas { get; } = new("cuBLAS", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"]);

    public static NativeLibrarySpec Cudnn { get; } = new("cuDNN", ["libcudnn.so.9"]);

    public static NativeLibrarySpec OpenBlas { get; } = new("OpenBLAS", ["libopenblas.so.0", "libopenblas.so"]);

    public static NativeLibrarySpec TurboJpeg { get; } = new("libjpeg-turbo", ["libturbojpeg.so.0"]);

    public static NativeLibrarySpec Spng { get; } = new("libspng", ["libspng.so.0"]);
}
