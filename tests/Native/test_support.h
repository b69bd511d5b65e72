/* Helpers shared by the C tests of libnativeseg (run by tests/NativeSeg.Tests/Native/NativeHostTests.cs). */
#ifndef NATIVESEG_TEST_SUPPORT_H
#define NATIVESEG_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

#include "nativeseg.h"

static inline uint64_t fnv1a(const uint8_t* bytes, size_t n)
{
    uint64_t hash = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) hash = (hash ^ bytes[i]) * 1099511628211ull;
    return hash;
}

/* Writes one line per instance (the format of examples/c/segment_image) into out; returns the count or -1. */
static inline int describe(const ns_result* result, char* out, size_t size)
{
    int32_t count = ns_result_count(result);
    size_t used = 0;
    out[0] = 0;
    for (int32_t i = 0; i < count; i++) {
        ns_instance instance;
        if (ns_result_get(result, i, &instance) != NS_OK) return -1;
        size_t pixels = (size_t)instance.mask_width * (size_t)instance.mask_height, area = 0;
        for (size_t p = 0; p < pixels; p++) area += instance.mask[p];
        int n = snprintf(out + used, size - used, "%d %.6f %.3f %.3f %.3f %.3f %zu %016llx\n", instance.category_id,
                         instance.score, instance.box[0], instance.box[1], instance.box[2], instance.box[3], area,
                         (unsigned long long)fnv1a(instance.mask, pixels));
        if (n < 0 || (size_t)n >= size - used) return -1;
        used += (size_t)n;
    }
    return count;
}

/* Reads a whole file into memory; exits with a message when it cannot. */
static inline uint8_t* read_file(const char* path, size_t* length)
{
    FILE* f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t* data = malloc((size_t)n);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    *length = (size_t)n;
    return data;
}

static inline ns_model* load_or_exit(const char* path)
{
    ns_model* model = NULL;
    if (ns_model_load(path, "cpu", &model) != NS_OK) { fprintf(stderr, "load failed: %s\n", ns_last_error()); exit(2); }
    return model;
}

#endif
