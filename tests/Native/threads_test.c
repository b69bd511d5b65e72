/*
 * threads_test MODEL IMAGE ITERATIONS: four threads share one model, each segmenting IMAGE ITERATIONS times;
 * every result must equal the one a single thread got first. Prints "threads: OK" or what differed.
 */
#include <pthread.h>
#include <string.h>

#include "test_support.h"

#define THREADS 4
#define TEXT (1 << 20)

static ns_model* model;
static const char* image;
static int iterations;
static char expected[TEXT];

static void* worker(void* arg)
{
    char* text = malloc(TEXT);
    long failures = 0;
    for (int i = 0; i < iterations; i++) {
        ns_result* result = NULL;
        if (ns_segment_file(model, image, 0.0f, &result) != NS_OK) {
            fprintf(stderr, "thread %ld: %s\n", (long)(intptr_t)arg, ns_last_error());
            failures++;
            continue;
        }
        if (describe(result, text, TEXT) < 0 || strcmp(text, expected) != 0) {
            fprintf(stderr, "thread %ld iteration %d differs:\n%s", (long)(intptr_t)arg, i, text);
            failures++;
        }
        ns_result_free(result);
    }
    free(text);
    return (void*)(intptr_t)failures;
}

int main(int argc, char** argv)
{
    if (argc != 4) { fprintf(stderr, "usage: threads_test MODEL IMAGE ITERATIONS\n"); return 2; }
    model = load_or_exit(argv[1]);
    image = argv[2];
    iterations = atoi(argv[3]);
    ns_result* first = NULL;
    if (ns_segment_file(model, image, 0.0f, &first) != NS_OK || describe(first, expected, TEXT) <= 0) {
        fprintf(stderr, "single-thread run failed or found nothing: %s\n", ns_last_error());
        return 1;
    }
    ns_result_free(first);
    pthread_t threads[THREADS];
    for (intptr_t t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, (void*)t);
    long failures = 0;
    for (int t = 0; t < THREADS; t++) {
        void* value;
        pthread_join(threads[t], &value);
        failures += (long)(intptr_t)value;
    }
    ns_model_free(model);
    if (failures) { printf("threads: %ld of %d results differ\n", failures, THREADS * iterations); return 1; }
    printf("threads: OK (%d threads x %d results equal to one thread's)\n", THREADS, iterations);
    return 0;
}
