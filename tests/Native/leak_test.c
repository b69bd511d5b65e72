/*
 * leak_test MODEL IMAGE CALLS: segments IMAGE CALLS times (reading every mask), printing the resident set
 * size after the first tenth of the calls and after all of them, so a test can bound the growth.
 */
#include <unistd.h>

#include "test_support.h"

static long resident_kib(void)
{
    long pages = 0, resident = 0;
    FILE* f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) return -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char** argv)
{
    if (argc != 4) { fprintf(stderr, "usage: leak_test MODEL IMAGE CALLS\n"); return 2; }
    ns_model* model = load_or_exit(argv[1]);
    int calls = atoi(argv[3]);
    long warm = 0;
    static char text[1 << 20];
    for (int i = 0; i < calls; i++) {
        if (i == calls / 10) warm = resident_kib();
        ns_result* result = NULL;
        if (ns_segment_file(model, argv[2], 0.0f, &result) != NS_OK || describe(result, text, sizeof text) < 0) {
            fprintf(stderr, "call %d: %s\n", i, ns_last_error());
            return 1;
        }
        ns_result_free(result);
    }
    ns_model_free(model);
    printf("rss_kib %ld %ld\n", warm, resident_kib());
    return 0;
}
