/* fuzz_idx.c - libFuzzer target: the IDX readers on any bytes. A file that loads holds exactly the
   bytes its header announces and every pixel is in [0, 1]; a refused one leaves the outputs NULL
   and 0 and says why without a control byte; nothing allocates much more than the input
   (fuzz_common.h). Build and run: make fuzz (or fuzz-ci). */
#include "fuzz_common.h"

static void fz_message(void)
{
    int i;
    FZ_ASSERT(ncsn_last_error()[0] != 0, "a refusal without a message");
    for (i = 0; ncsn_last_error()[i]; i++)
        FZ_ASSERT((unsigned char)ncsn_last_error()[i] >= 0x20 && ncsn_last_error()[i] != 0x7f, "a control byte in a message");
}

static void fz_images(const uint8_t *data, size_t size)
{
    float *d = (float *)&d;
    int n = -1, r = -1, c = -1;
    size_t k, count;
    ncsn_status st = ncsn_idx_images_mem(data, size, "fuzz.idx", &d, &n, &r, &c);
    if (st == NCSN_OK) {
        FZ_ASSERT(d && n >= 1 && r >= 1 && c >= 1, "impossible shape");
        count = (size_t)n * (size_t)r * (size_t)c;
        FZ_ASSERT(count + 16 == size, "loaded a file that is not exactly its header's size");
        for (k = 0; k < count; k++) FZ_ASSERT(d[k] >= 0.0f && d[k] <= 1.0f && d[k] == (float)data[16 + k] / 255.0f, "a pixel is not byte / 255");
        ncsn_free(d);
    } else {
        FZ_ASSERT(d == NULL && n == 0 && r == 0 && c == 0, "outputs set by a refused file");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM, "unexpected status");
        fz_message();
    }
}

static void fz_labels(const uint8_t *data, size_t size)
{
    int *l = (int *)&l, n = -1, k;
    ncsn_status st = ncsn_idx_labels_mem(data, size, NULL, &l, &n);
    if (st == NCSN_OK) {
        FZ_ASSERT(l && n >= 1 && (size_t)n + 8 == size, "loaded a labels file that is not exactly its header's size");
        for (k = 0; k < n; k++) FZ_ASSERT(l[k] == data[8 + k], "a label is not its byte");
        ncsn_free(l);
    } else {
        FZ_ASSERT(l == NULL && n == 0, "outputs set by a refused labels file");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM, "unexpected status");
        fz_message();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input_size = size;
    fz_images(data, size);
    fz_labels(data, size);
    return 0;
}
