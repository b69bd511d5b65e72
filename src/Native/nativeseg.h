/*
 * nativeseg.h: the C API of libnativeseg.so (NativeSeg's instance segmentation, compiled ahead of time).
 *
 * Build: `build/publish-native.sh OUT` writes OUT/libnativeseg.so, this header and OUT/nativeseg (the CLI).
 * Link with -L OUT -lnativeseg (and -Wl,-rpath,OUT or LD_LIBRARY_PATH); at run time the library needs
 * libopenblas0-pthread, libturbojpeg0 and libspng0, and for CUDA the driver, cuBLAS, cuDNN and NVRTC.
 *
 * Errors: every function that can fail returns an ns_status. A failed call sets the calling thread's last
 * error (ns_last_error) and leaves its out-pointer NULL; it never aborts the process or throws. Invalid
 * arguments (NULL pointers, non-positive or inconsistent sizes, a row stride below 3 x width, an index out
 * of range, a handle already freed where detectable) return NS_INVALID_ARGUMENT.
 *
 * Ownership: ns_model_load returns a model the caller frees with ns_model_free; each ns_segment_* call
 * returns a result the caller frees with ns_result_free. A result owns the masks ns_result_get points to;
 * they stay valid until that result is freed, whatever happens to the model (a result does not need its
 * model alive). Freeing NULL is a no-op; freeing twice is detected where possible and reported through
 * ns_last_error.
 *
 * Threads: one model may be used by several threads at once (its calls run one after another inside the
 * library, because a model's device memory and workspaces are shared by its calls; use one model per thread
 * to run images in parallel). Results may be read from any thread. ns_last_error is per thread.
 */
#ifndef NATIVESEG_H
#define NATIVESEG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NS_VERSION "0.5.0"

typedef struct ns_model ns_model;   /* opaque: a loaded model */
typedef struct ns_result ns_result; /* opaque: the instances found in one image */

typedef enum ns_status {
    NS_OK = 0,
    NS_INVALID_ARGUMENT = 1, /* a NULL, out-of-range or inconsistent argument, or a freed handle */
    NS_IO_ERROR = 2,         /* a file could not be read (missing, no permission) */
    NS_FORMAT_ERROR = 3,     /* a file is not a model / image the library can read */
    NS_DEVICE_ERROR = 4,     /* CUDA is unavailable or failed */
    NS_OUT_OF_MEMORY = 5,    /* host or device memory ran out */
    NS_INTERNAL_ERROR = 6    /* a bug: please report it with ns_last_error's message */
} ns_status;

typedef struct ns_instance {
    float box[4];            /* x1, y1, x2, y2 in input-image pixels */
    float score;             /* the score `nativeseg segment` writes to COCO results */
    int32_t category_id;     /* as in the COCO results the CLI writes */
    int32_t mask_width, mask_height; /* the input image's size */
    const uint8_t* mask;     /* full-image binary mask, row-major, 1 = object; owned by the result */
} ns_instance;

/* The library's version, e.g. "0.5.0" (equal to NS_VERSION for a matching header). Static storage. */
const char* ns_version(void);

/* The message of this thread's last failed call; "" if none failed yet. Valid until this thread's next failing call. */
const char* ns_last_error(void);

/* Loads a model converted by `nativeseg convert` (a .safetensors file) on a device:
 * "cpu", "cuda", "cuda:N" or "auto" (CUDA when usable, else the CPU); NULL means "auto". */
ns_status ns_model_load(const char* model_path, const char* device, ns_model** out_model);

/* Segments a PNG or JPEG file (JPEG EXIF orientation applied). Instances scoring at or below score_threshold
 * (within [0, 1]) are dropped; the model's own threshold (its released
 * config's: 0.05 for Mask R-CNN, 0.03 on FCOS candidates for BCNet) has already been applied. */
ns_status ns_segment_file(ns_model* model, const char* image_path, float score_threshold, ns_result** out_result);

/* Segments packed 8-bit RGB pixels: height rows of width x 3 bytes, each row row_stride_bytes (>= 3 x width)
 * after the previous one. The pixels are copied; the caller keeps ownership of rgb. */
ns_status ns_segment_rgb8(ns_model* model, const uint8_t* rgb, int32_t width, int32_t height,
                          int32_t row_stride_bytes, float score_threshold, ns_result** out_result);

/* The number of instances, highest score first; -1 (and the last error set) for an invalid result. */
int32_t ns_result_count(const ns_result* result);

/* Fills *out_instance with instance index (0 <= index < count). On failure *out_instance is zeroed. */
ns_status ns_result_get(const ns_result* result, int32_t index, ns_instance* out_instance);

void ns_result_free(ns_result* result); /* NULL is a no-op */
void ns_model_free(ns_model* model);    /* NULL is a no-op */

#ifdef __cplusplus
}
#endif

#endif /* NATIVESEG_H */
