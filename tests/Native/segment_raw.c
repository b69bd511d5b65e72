/* segment_raw MODEL RAW WIDTH HEIGHT STRIDE: ns_segment_rgb8 on raw RGB rows STRIDE bytes apart; prints the instances. */
#include "test_support.h"

int main(int argc, char** argv)
{
    if (argc != 6) { fprintf(stderr, "usage: segment_raw MODEL RAW WIDTH HEIGHT STRIDE\n"); return 2; }
    size_t length;
    uint8_t* rgb = read_file(argv[2], &length);
    ns_model* model = load_or_exit(argv[1]);
    ns_result* result = NULL;
    if (ns_segment_rgb8(model, rgb, atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), 0.0f, &result) != NS_OK) {
        fprintf(stderr, "error: %s\n", ns_last_error());
        return 1;
    }
    static char text[1 << 20];
    if (describe(result, text, sizeof text) < 0) { fprintf(stderr, "error: %s\n", ns_last_error()); return 1; }
    fputs(text, stdout);
    ns_result_free(result);
    ns_model_free(model);
    free(rgb);
    return 0;
}
