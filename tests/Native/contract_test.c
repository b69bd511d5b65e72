/*
 * contract_test MODEL IMAGE: every hostile call of nativeseg.h's contract returns the documented status,
 * leaves its out-pointer NULL and sets a message. Prints one line per check; exits 1 if any failed.
 */
#include <math.h>
#include <string.h>

#include "test_support.h"

static int failures;

/* Any non-NULL value a failed call must overwrite with NULL. */
#define POISON ((void*)0x1)

static void expect(const char* what, ns_status got, ns_status want)
{
    const char* message = ns_last_error();
    int ok = got == want && (want == NS_OK || (message && message[0]));
    printf("%s %s: status %d (want %d) \"%s\"\n", ok ? "ok  " : "FAIL", what, got, want, want == NS_OK ? "" : message);
    if (!ok) failures++;
}

static void expect_null(const char* what, const void* pointer)
{
    if (pointer) { printf("FAIL %s: out-pointer not NULL after a failed call\n", what); failures++; }
}

int main(int argc, char** argv)
{
    if (argc != 3) { fprintf(stderr, "usage: contract_test MODEL IMAGE\n"); return 2; }
    const char *model_path = argv[1], *image = argv[2];
    if (strcmp(ns_last_error(), "") != 0) { printf("FAIL ns_last_error before any call is not empty\n"); failures++; }
    if (strcmp(ns_version(), NS_VERSION) != 0) { printf("FAIL ns_version %s != header %s\n", ns_version(), NS_VERSION); failures++; }

    ns_model* model = POISON;
    expect("load NULL path", ns_model_load(NULL, NULL, &model), NS_INVALID_ARGUMENT);
    expect_null("load NULL path", model);
    expect("load NULL out", ns_model_load(model_path, NULL, NULL), NS_INVALID_ARGUMENT);
    model = POISON;
    expect("load missing file", ns_model_load("/nonexistent/model.safetensors", "cpu", &model), NS_IO_ERROR);
    expect_null("load missing file", model);
    model = POISON;
    expect("load an image as a model", ns_model_load(image, "cpu", &model), NS_FORMAT_ERROR);
    expect_null("load an image as a model", model);
    model = POISON;
    expect("load on device \"tpu\"", ns_model_load(model_path, "tpu", &model), NS_INVALID_ARGUMENT);
    expect_null("load on device \"tpu\"", model);
    expect("load", ns_model_load(model_path, "cpu", &model), NS_OK);

    ns_result* result = POISON;
    expect("segment NULL model", ns_segment_file(NULL, image, 0, &result), NS_INVALID_ARGUMENT);
    expect_null("segment NULL model", result);
    result = POISON;
    expect("segment NULL path", ns_segment_file(model, NULL, 0, &result), NS_INVALID_ARGUMENT);
    expect_null("segment NULL path", result);
    expect("segment NULL out", ns_segment_file(model, image, 0, NULL), NS_INVALID_ARGUMENT);
    result = POISON;
    expect("segment missing image", ns_segment_file(model, "/nonexistent/image.png", 0, &result), NS_IO_ERROR);
    expect_null("segment missing image", result);
    result = POISON;
    expect("segment a model file as an image", ns_segment_file(model, model_path, 0, &result), NS_FORMAT_ERROR);
    expect_null("segment a model file as an image", result);
    float bad_scores[] = {-0.5f, 1.5f, NAN};
    for (int i = 0; i < 3; i++) {
        result = POISON;
        expect("segment with score threshold out of [0, 1]", ns_segment_file(model, image, bad_scores[i], &result), NS_INVALID_ARGUMENT);
        expect_null("segment with score threshold out of [0, 1]", result);
    }
    expect("segment a pointer that is no model", ns_segment_file((ns_model*)&failures, image, 0, &result), NS_INVALID_ARGUMENT);

    uint8_t pixels[8 * 3 * 8] = {0};
    struct { const char* what; const uint8_t* rgb; int32_t w, h, stride; } rgb_cases[] = {
        {"rgb NULL pixels", NULL, 8, 8, 24},
        {"rgb width 0", pixels, 0, 8, 24},
        {"rgb negative height", pixels, 8, -1, 24},
        {"rgb stride below 3 x width", pixels, 8, 8, 23},
        {"rgb negative stride", pixels, 8, 8, -24},
        {"rgb size over the limits", pixels, 20000, 20000, 60000},
    };
    for (size_t i = 0; i < sizeof rgb_cases / sizeof rgb_cases[0]; i++) {
        result = POISON;
        expect(rgb_cases[i].what, ns_segment_rgb8(model, rgb_cases[i].rgb, rgb_cases[i].w, rgb_cases[i].h, rgb_cases[i].stride, 0, &result), NS_INVALID_ARGUMENT);
        expect_null(rgb_cases[i].what, result);
    }
    expect("rgb NULL out", ns_segment_rgb8(model, pixels, 8, 8, 24, 0, NULL), NS_INVALID_ARGUMENT);
    expect("rgb 8x8 black image", ns_segment_rgb8(model, pixels, 8, 8, 24, 0, &result), NS_OK);
    ns_result_free(result);

    expect("segment", ns_segment_file(model, image, 0, &result), NS_OK);
    int32_t count = ns_result_count(result);
    ns_instance instance;
    if (ns_result_count(NULL) != -1) { printf("FAIL count of NULL is not -1\n"); failures++; }
    expect("get from NULL result", ns_result_get(NULL, 0, &instance), NS_INVALID_ARGUMENT);
    expect("get index -1", ns_result_get(result, -1, &instance), NS_INVALID_ARGUMENT);
    expect("get index count", ns_result_get(result, count, &instance), NS_INVALID_ARGUMENT);
    expect("get into NULL", ns_result_get(result, 0, NULL), NS_INVALID_ARGUMENT);
    expect("get from a model handle", ns_result_get((ns_result*)model, 0, &instance), NS_INVALID_ARGUMENT);

    /* A result outlives its model. */
    ns_model_free(model);
    if (count > 0) {
        expect("get after the model was freed", ns_result_get(result, 0, &instance), NS_OK);
        if (!instance.mask || instance.mask_width <= 0) { printf("FAIL instance after model free has no mask\n"); failures++; }
    }
    ns_result* unused = POISON;
    expect("segment with a freed model", ns_segment_file(model, image, 0, &unused), NS_INVALID_ARGUMENT);
    expect_null("segment with a freed model", unused);
    ns_model_free(model);
    if (strstr(ns_last_error(), "not a live ns_model") == NULL) { printf("FAIL double model free not reported: %s\n", ns_last_error()); failures++; }

    ns_result_free(result);
    expect("get from a freed result", ns_result_get(result, 0, &instance), NS_INVALID_ARGUMENT);
    if (ns_result_count(result) != -1) { printf("FAIL count of a freed result is not -1\n"); failures++; }
    ns_result_free(result);
    if (strstr(ns_last_error(), "not a live ns_result") == NULL) { printf("FAIL double result free not reported: %s\n", ns_last_error()); failures++; }
    ns_result_free(NULL);
    ns_model_free(NULL);

    printf(failures ? "contract: %d FAILED\n" : "contract: OK\n", failures);
    return failures ? 1 : 0;
}
