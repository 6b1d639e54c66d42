/* fuzz_csv.c - libFuzzer target: ncsn_csv_parse on any bytes, with small and default limits.
   Build and run: make fuzz (or fuzz-ci). */
#include "fuzz_common.h"

static void fz_parse(const uint8_t *data, size_t size, const ncsn_csv_opts *o)
{
    float *d = (float *)&d;
    int n = -1, dim = -1, i;
    char names[64] = "x";
    ncsn_status st = ncsn_csv_parse((const char *)data, size, o, &d, &n, &dim, names, sizeof names);
    if (st == NCSN_OK) {
        FZ_ASSERT(d && n >= 1 && dim >= 1 && (size_t)n * (size_t)dim <= size / 2 + 1, "impossible shape");
        if (o) FZ_ASSERT(n <= o->max_rows && dim <= o->max_cols, "limits not enforced");
        for (i = 0; i < n * dim; i++) FZ_ASSERT(d[i] == d[i] && d[i] - d[i] == 0.0f, "non-finite value accepted");
        FZ_ASSERT(strlen(names) < sizeof names, "names overflow");
        ncsn_free(d);
    } else {
        FZ_ASSERT(d == NULL && n == 0 && dim == 0 && names[0] == 0, "outputs set by a failed parse");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM, "unexpected status");
        FZ_ASSERT(ncsn_last_error()[0] != 0, "a failed parse without a message");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ncsn_csv_opts o;
    fz_input_size = size;
    fz_parse(data, size, NULL);
    memset(&o, 0, sizeof o);
    o.source = "fuzz.csv";
    o.max_rows = 7;
    o.max_cols = 5;
    o.max_line = 40;
    fz_parse(data, size, &o);
    return 0;
}
