/* make_corpus.c - writes the fuzzers' seed corpus (tests/fuzz/corpus/{safetensors,checkpoint,csv,idx}):
   small valid files of every kind the loaders read, and near misses of each strict check (tensors
   overlapping or leaving a gap, a moment aliasing the weights, levels that are not a schedule, the
   step at NCSN_MAX_STEP and one past it). `make fuzz-corpus`
   regenerates it (on purpose only; the files are in the repository).
   usage: make_corpus DIR */
#define _POSIX_C_SOURCE 200809L
#define NCSN_NO_FSYNC
#define NCSN_IMPLEMENTATION
#include "../../ncsn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *dir;

static void put(const char *sub, const char *name, const char *text, size_t len)
{
    char p[1024];
    FILE *fp;
    snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
    if (!(fp = fopen(p, "wb"))) { perror(p); return; }
    fwrite(text, 1, len, fp);
    fclose(fp);
}

/* a string literal's bytes without its terminating NUL (hand-counted lengths were off by 1 to 5) */
#define PUT_TEXT(sub, name, lit) put(sub, name, lit, sizeof lit - 1)

/* a trained-a-little model of cfg, as a model file and as a checkpoint */
static void model(const char *name, ncsn_config cfg, int L)
{
    char p[1024];
    ncsn_model *m = NULL;
    ncsn_adam ad;
    ncsn_rng rng;
    ncsn_dsm_batch bt;
    float sig[8], data[8 * 4], loss;
    static const char *const extra[] = { "cli.note", "seed \"corpus\"", NULL };
    ncsn_rng_seed(&rng, 1, 2);
    ncsn_schedule(sig, L, 4.0f, 0.1f, NCSN_SCHEDULE_GEOMETRIC);
    if (ncsn_model_create(&m, &cfg) != NCSN_OK || ncsn_model_init(m, &rng) != NCSN_OK || ncsn_adam_create(&ad, m->n_params, 1e-2f) != NCSN_OK ||
        ncsn_dsm_batch_alloc(&bt, 8, cfg.dim) != NCSN_OK) {
        fprintf(stderr, "%s: %s\n", name, ncsn_last_error());
        return;
    }
    ncsn_rng_normals(&rng, data, (size_t)8 * cfg.dim);
    ncsn_dsm_loss(m, &bt, data, 8, sig, L, NCSN_WEIGHT_SIGMA2, &rng, &loss);
    ncsn_adam_step(&ad, m->params, m->grads);
    snprintf(p, sizeof p, "%s/safetensors/%s.safetensors", dir, name);
    ncsn_model_save(m, p);
    snprintf(p, sizeof p, "%s/safetensors/%s_ckpt.safetensors", dir, name);
    ncsn_checkpoint_save(m, p, &ad, &rng, sig, L, 1, extra);
    snprintf(p, sizeof p, "%s/checkpoint/%s.ckpt", dir, name);
    ncsn_checkpoint_save(m, p, &ad, &rng, sig, L, 1, extra);
    snprintf(p, sizeof p, "%s/checkpoint/%s_model.safetensors", dir, name);
    ncsn_checkpoint_save(m, p, NULL, NULL, sig, L, 1, NULL);
    ncsn_dsm_batch_free(&bt);
    ncsn_adam_free(&ad);
    ncsn_model_free(m);
}

/* the crafted near misses of the loaders' strict checks, from a valid checkpoint: its header with
   `from` replaced by `to` (NULL: unchanged) and, if value_bits is not 0, float `index` of tensor
   `tensor` set to those bits */
static void crafted(const char *sub, const char *name, const char *src, const char *from, const char *to, const char *tensor, int index,
                    uint32_t value_bits)
{
    static char hdr[1 << 16], out[1 << 16];
    char p[1024];
    unsigned char *buf;
    uint64_t hl = 0;
    long len;
    size_t nh;
    int i;
    FILE *fp = fopen(src, "rb");
    if (!fp) { perror(src); return; }
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)len);
    if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) { fclose(fp); free(buf); return; }
    fclose(fp);
    for (i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    memcpy(hdr, buf + 8, (size_t)hl);
    hdr[hl] = 0;
    if (from) {
        const char *at = strstr(hdr, from);
        if (!at) { fprintf(stderr, "%s: no '%s'\n", name, from); free(buf); return; }
        snprintf(out, sizeof out, "%.*s%s%s", (int)(at - hdr), hdr, to, at + strlen(from));
    } else snprintf(out, sizeof out, "%s", hdr);
    if (value_bits) {
        char key[96];
        const char *e;
        unsigned long long off = 0;
        snprintf(key, sizeof key, "\"%s\":", tensor);
        if ((e = strstr(hdr, key)) != NULL && (e = strstr(e, "data_offsets\":[")) != NULL) off = strtoull(e + 15, NULL, 10);
        for (i = 0; i < 4; i++) buf[8 + hl + off + 4 * (unsigned)index + (unsigned)i] = (unsigned char)(value_bits >> (8 * i));
    }
    nh = strlen(out);
    snprintf(p, sizeof p, "%s/%s/%s", dir, sub, name);
    if (!(fp = fopen(p, "wb"))) { perror(p); free(buf); return; }
    for (i = 0; i < 8; i++) fputc((int)((uint64_t)nh >> (8 * i)) & 0xff, fp);
    fwrite(out, 1, nh, fp);
    fwrite(buf + 8 + hl, 1, (size_t)len - 8 - (size_t)hl, fp);
    fclose(fp);
    free(buf);
}

static void crafted_all(void)
{
    char ck[1024], md[1024];
    snprintf(ck, sizeof ck, "%s/checkpoint/concat_2_3.ckpt", dir);
    snprintf(md, sizeof md, "%s/safetensors/concat_2_3.safetensors", dir);
    /* net.0.weight [3,3] at [0,36], net.0.bias [3] at [36,48], net.2.weight [2,3] at [48,72], net.2.bias [2] at [72,80] */
    crafted("safetensors", "bad_overlap.safetensors", md, "\"data_offsets\":[72,80]", "\"data_offsets\":[68,76]", NULL, 0, 0);
    crafted("safetensors", "bad_gap.safetensors", md, "\"data_offsets\":[36,48]", "\"data_offsets\":[40,52]", NULL, 0, 0);
    crafted("checkpoint", "bad_moment_alias.ckpt", ck, "\"adam.m.net.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[116,128]",
            "\"adam.m.net.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[36,48]", NULL, 0, 0);
    crafted("checkpoint", "bad_levels_increasing.ckpt", ck, NULL, NULL, "sigmas", 2, 0x41200000u);   /* levels 4, 0.63, 0.1: 10 last */
    crafted("checkpoint", "bad_levels_equal.ckpt", ck, NULL, NULL, "sigmas", 1, 0x40800000u);       /* 4 twice */
    crafted("checkpoint", "bad_levels_subnormal.ckpt", ck, NULL, NULL, "sigmas", 2, 0x00000100u);
    crafted("safetensors", "bad_levels_huge.safetensors", ck, NULL, NULL, "sigmas", 1, 0x7f7fc99eu); /* 3.4e38 after 4 */
    crafted("checkpoint", "step_max.ckpt", ck, "\"ncsn.step\":\"1\"", "\"ncsn.step\":\"4611686018427387904\"", NULL, 0, 0);
    crafted("checkpoint", "bad_step_past_max.ckpt", ck, "\"ncsn.step\":\"1\"", "\"ncsn.step\":\"4611686018427387905\"", NULL, 0, 0);
}

/* IDX images and labels: valid ones and near misses of each check (one byte short, one byte
   more, a lying count, a zero size, rows x cols past INT_MAX, another type, gzip's magic) */
static void idx_files(void)
{
    unsigned char b[16 + 2 * 3 * 4];
    int i;
    static const unsigned char head[16] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4 };
    memcpy(b, head, 16);
    for (i = 0; i < 24; i++) b[16 + i] = (unsigned char)(i * 11);
    put("idx", "images_2x3x4.idx", (const char *)b, sizeof b);
    put("idx", "bad_images_short.idx", (const char *)b, sizeof b - 1);
    b[7] = 3;
    put("idx", "bad_images_count.idx", (const char *)b, sizeof b);
    b[7] = 2; b[11] = 0;
    put("idx", "bad_images_rows0.idx", (const char *)b, 16);
    b[8] = 0; b[9] = 1; b[10] = 0; b[11] = 0; b[12] = 0; b[13] = 1; b[14] = 0; b[15] = 0;
    put("idx", "bad_images_huge.idx", (const char *)b, sizeof b);
    PUT_TEXT("idx", "labels_5.idx", "\0\0\x08\x01\0\0\0\x05\x09\x00\x03\x07\x01");
    PUT_TEXT("idx", "bad_labels_long.idx", "\0\0\x08\x01\0\0\0\x02\x09\x00\x03");
    PUT_TEXT("idx", "bad_type_float.idx", "\0\0\x0d\x01\0\0\0\x01\0\0\x80\x3f");
    PUT_TEXT("idx", "bad_gzip.idx", "\x1f\x8b\x08\x00\0\0\0\0\0\x03");
}

int main(int argc, char **argv)
{
    static const char *const subs[] = { "safetensors", "checkpoint", "csv", "idx" };
    char p[1024];
    ncsn_config c;
    int i;
    static const char tiny[] =   /* as torch writes it: no metadata, [out, in] weights */
        "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
        "\"net.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
        "\"net.2.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[24,32]},"
        "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}}    ";
    if (argc != 2) { fprintf(stderr, "usage: make_corpus DIR\n"); return 1; }
    dir = argv[1];
    mkdir(dir, 0777);
    for (i = 0; i < 4; i++) { snprintf(p, sizeof p, "%s/%s", dir, subs[i]); mkdir(p, 0777); }
    c = ncsn_config_concat(2, 3, 1);
    model("concat_2_3", c, 3);
    c = ncsn_config_embed(1, 4, 3, 2);
    c.act = NCSN_ACT_SOFTPLUS;
    c.scale_by_sigma = 1;
    model("embed_1_4_3x2", c, 4);
    c = ncsn_config_concat(3, 2, 3);
    model("concat_3_2x3", c, 2);
    crafted_all();
    {
        char f[512];
        size_t hl = strlen(tiny);
        float w[9] = { 0.5f, -0.25f, 1.0f, 2.0f, 0.0f, -1.0f, 0.125f, 3.0f, -0.5f };
        for (i = 0; i < 8; i++) f[i] = (char)((uint64_t)hl >> (8 * i));
        memcpy(f + 8, tiny, hl);
        memcpy(f + 8 + hl, w, sizeof w);   /* little-endian hosts */
        put("safetensors", "torch_tiny.safetensors", f, 8 + hl + sizeof w);
        put("checkpoint", "torch_tiny.safetensors", f, 8 + hl + sizeof w);
    }
    PUT_TEXT("csv", "header.csv", "x,y\n1.5,-2\n0.25,3e-3\n-7,8\n");
    PUT_TEXT("csv", "plain.csv", "1,2,3\n4,5,6\n");
    PUT_TEXT("csv", "spaces.tsv", "1.5\t2\n 3   4\n");
    PUT_TEXT("csv", "crlf_bom_comments.csv", "\xef\xbb\xbf# data\r\nx,y\r\n\r\n1,2\r\n# end\r\n3,4\r\n");
    PUT_TEXT("csv", "quoted.csv", "\"a,b\",\"c\"\"d\"\n\"1\",2\n");
    PUT_TEXT("csv", "one_column.csv", "v\n0x1p-3\n-0\n1e-40\n");
    PUT_TEXT("csv", "bad_nan.csv", "1,2\n3,nan\n");
    PUT_TEXT("csv", "bad_ragged.csv", "1,2\n3\n");
    PUT_TEXT("csv", "bad_empty_field.csv", "1,,2\n");
    PUT_TEXT("csv", "names_quoted.csv", "\"a b\",\"#c\",d\te\n1,2,3\n");
    PUT_TEXT("csv", "midpoints.csv", "7.00649232162408535461864e-46,3.40282356779733661637539395458142568448e38\n1.00000005960464477539062,6.103515625e-05\n");
    PUT_TEXT("csv", "bad_escape_name.csv", "a\x1b[31m,b\n1,2\n");
    /* files as R and sklearn write them (the CLI's column handling reads the same text) */
    PUT_TEXT("csv", "r_write_csv.csv", "\"\",\"eruptions\",\"waiting\"\n\"1\",3.6,79\n\"2\",1.8,54\n");
    PUT_TEXT("csv", "r_write_table.txt", "\"eruptions\" \"waiting\"\n\"1\" 3.6 79\n\"2\" 1.8 54\n");
    PUT_TEXT("csv", "r_write_csv2.csv", "\"\";\"eruptions\";\"waiting\"\n\"1\";3,6;79\n");
    PUT_TEXT("csv", "r_na.csv", "\"\",\"Ozone\",\"Solar.R\"\n\"1\",41,190\n\"5\",NA,NA\n");
    PUT_TEXT("csv", "sklearn_iris.csv", "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n");
    PUT_TEXT("csv", "sklearn_boston.csv", "506,13,,,\n\"CRIM\",\"ZN\",\"INDUS\",\"CHAS\",\"MEDV\"\n0.00632,18,2.31,0,24\n");
    PUT_TEXT("csv", "bom_header.csv", "\xef\xbb\xbf\"\",\"x\",\"y\"\n\"1\",1,2\n");
    idx_files();
    return 0;
}
