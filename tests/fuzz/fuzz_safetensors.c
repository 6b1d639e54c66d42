/* fuzz_safetensors.c - libFuzzer target: ncsn_model_load_mem and ncsn_file_meta_mem on any bytes.
   Build and run: make fuzz (or fuzz-ci). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ncsn_model *m = (ncsn_model *)&m;
    char v[64];
    ncsn_status st;
    fz_input_size = size;
    st = ncsn_model_load_mem(&m, data, size);
    if (st == NCSN_OK) {
        fz_check_model(m);
        ncsn_model_free(m);
    } else {
        FZ_ASSERT(m == NULL, "*out not NULL after a failed load");
        FZ_ASSERT(st == NCSN_ERR_FORMAT || st == NCSN_ERR_NOMEM, "a load failed with an unexpected status");
        FZ_ASSERT(ncsn_last_error()[0] != 0, "a failed load without a message");
    }
    st = ncsn_file_meta_mem(data, size, "act", v, sizeof v);
    FZ_ASSERT(st == NCSN_OK ? strlen(v) < sizeof v : v[0] == 0, "ncsn_file_meta_mem: value");
    ncsn_file_meta_mem(data, size, "ncsn.step", v, 4);
    return 0;
}
