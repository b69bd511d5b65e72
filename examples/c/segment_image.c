/*
 * segment_image: segments one image with libnativeseg and prints its instances.
 *
 *   segment_image MODEL.safetensors IMAGE [DEVICE] [SCORE_THRESHOLD]
 *
 * One line per instance: category id, score, box x1 y1 x2 y2, mask area in pixels and the mask's FNV-1a
 * hash (so two runs, or a run and the CLI's results, can be compared mask for mask).
 */
#include <stdio.h>
#include <stdlib.h>

#include "nativeseg.h"

static uint64_t fnv1a(const uint8_t* bytes, size_t n)
{
    uint64_t hash = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) hash = (hash ^ bytes[i]) * 1099511628211ull;
    return hash;
}

int main(int argc, char** argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL.safetensors IMAGE [DEVICE] [SCORE_THRESHOLD]\n", argv[0]);
        return 2;
    }
    const char* device = argc > 3 ? argv[3] : NULL;
    float threshold = argc > 4 ? strtof(argv[4], NULL) : 0.0f;

    ns_model* model = NULL;
    if (ns_model_load(argv[1], device, &model) != NS_OK) {
        fprintf(stderr, "error: %s\n", ns_last_error());
        return 1;
    }
    ns_result* result = NULL;
    if (ns_segment_file(model, argv[2], threshold, &result) != NS_OK) {
        fprintf(stderr, "error: %s\n", ns_last_error());
        ns_model_free(model);
        return 1;
    }
    int32_t count = ns_result_count(result);
    printf("nativeseg %s: %d instances\n", ns_version(), count);
    for (int32_t i = 0; i < count; i++) {
        ns_instance instance;
        if (ns_result_get(result, i, &instance) != NS_OK) {
            fprintf(stderr, "error: %s\n", ns_last_error());
            break;
        }
        size_t pixels = (size_t)instance.mask_width * (size_t)instance.mask_height;
        size_t area = 0;
        for (size_t p = 0; p < pixels; p++) area += instance.mask[p];
        printf("%d %.6f %.3f %.3f %.3f %.3f %zu %016llx\n", instance.category_id, instance.score,
               instance.box[0], instance.box[1], instance.box[2], instance.box[3], area,
               (unsigned long long)fnv1a(instance.mask, pixels));
    }
    ns_result_free(result);
    ns_model_free(model);
    return 0;
}
