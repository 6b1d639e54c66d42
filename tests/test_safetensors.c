/* test_safetensors.c - ncsn_model_save / ncsn_model_load / ncsn_model_load_mem.

   The file layout is checked by a parser written here (not the library's): 8-byte little-endian
   header length, a JSON header with PyTorch's state_dict names and [out, in] shapes, contiguous
   data offsets, 8-byte aligned data, weights transposed to [out][in]. Hostile inputs must give
   NCSN_ERR_FORMAT with a message; truncations and byte flips must never crash, and whatever loads
   must be a valid model.

   This file compiles a private copy of the implementation (NCSN_STATIC) with a counting allocator,
   so that it can check that a load never allocates much more than the file it reads. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* mkstemp */
#include <unistd.h>
#endif
#include <stdlib.h>
#include <stdio.h>

static size_t ts_alloc_limit = (size_t)-1;  /* allocations above it fail (as a real malloc would, sooner or later) */
static size_t ts_alloc_max;                 /* largest request since the last reset */
static void *ts_malloc(size_t n)
{
    if (n > ts_alloc_max) ts_alloc_max = n;
    return n > ts_alloc_limit ? NULL : malloc(n);
}
#define NCSN_STATIC
#define NCSN_MALLOC(n) ts_malloc(n)
#define NCSN_FREE(p) free(p)
#define NCSN_IMPLEMENTATION
#include "../ncsn.h"
#include "test.h"

/* ---- temporary files ---- */
static int ts_tmpname(char *buf, size_t n)
{
#if !defined(_WIN32)
    const char *dir = getenv("TMPDIR");
    int fd;
    snprintf(buf, n, "%s/ncsn_test_XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(buf);
    if (fd < 0) return 0;
    close(fd);
    return 1;
#else
    return tmpnam(buf) != NULL;
#endif
}

/* the atomic writers create their temporary file exclusively (O_EXCL): a file already at the
   name (another writer's, a user's) is neither truncated nor later removed, and a symbolic link
   there is not followed. The names are random, so the collision is made by calling the creator. */
static void ts_create_excl(void)
{
#if defined(NCSN__POSIX_FILES)
    char path[1024], link[1040], target[1040];
    FILE *fp;
    int err = 0;
    size_t len = 0;
    unsigned char *b;
    if (!ts_tmpname(path, sizeof path) || !(fp = fopen(path, "wb"))) { CHECK(0, "create_excl: no temporary file"); return; }
    fputs("theirs", fp);
    fclose(fp);
    fp = ncsn__create_excl(path, &err);
    b = t_read_file(path, &len);
    CHECK(!fp && err == EEXIST && b && len == 6 && memcmp(b, "theirs", 6) == 0,
          "a temporary name that exists: opened (%s), errno %d, %lu bytes left of 6", fp ? "yes" : "no", err, (unsigned long)len);
    if (fp) fclose(fp);
    free(b);
    snprintf(link, sizeof link, "%s.lnk", path);
    snprintf(target, sizeof target, "%s.target", path);
    if (symlink(target, link) == 0) {
        fp = ncsn__create_excl(link, &err);
        CHECK(!fp && err == EEXIST && access(target, F_OK) != 0, "a symbolic link at the temporary name was followed");
        if (fp) fclose(fp);
        remove(link);
    }
    remove(target);
    remove(path);
#endif
}

static int ts_save_null_model(void) { return (int)ncsn_model_save(NULL, "/nonexistent-dir-ncsn/x.safetensors"); }

/* ---- the test's JSON header parser (only what a safetensors header contains) ---- */
typedef struct ts_ent {
    char name[64], dtype[16];
    int ndim, n_off;
    unsigned long long shape[4], off[2];
} ts_ent;
typedef struct ts_hdr {
    int n, n_meta;
    ts_ent e[64];
    char mk[16][64], mv[16][256];
} ts_hdr;
typedef struct ts_js { const char *p, *end; } ts_js;

static void tj_ws(ts_js *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++; }
static int tj_ch(ts_js *j, char c) { tj_ws(j); if (j->p < j->end && *j->p == c) { j->p++; return 1; } return 0; }
static int tj_str(ts_js *j, char *buf, size_t cap)
{
    size_t n = 0;
    if (!tj_ch(j, '"')) return 0;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\' || (unsigned char)*j->p < 0x20 || n + 1 >= cap) return 0;  /* our writer never escapes */
        buf[n++] = *j->p++;
    }
    if (j->p >= j->end) return 0;
    j->p++;
    buf[n] = 0;
    return 1;
}
static int tj_uint(ts_js *j, unsigned long long *v)
{
    int d = 0;
    tj_ws(j);
    *v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9' && d < 18) { *v = *v * 10 + (unsigned long long)(*j->p++ - '0'); d++; }
    return d > 0 && !(j->p < j->end && *j->p >= '0' && *j->p <= '9');
}
static int tj_uints(ts_js *j, unsigned long long *v, int cap, int *n)
{
    *n = 0;
    if (!tj_ch(j, '[')) return 0;
    if (tj_ch(j, ']')) return 1;
    for (;;) {
        if (*n >= cap || !tj_uint(j, &v[(*n)++])) return 0;
        if (tj_ch(j, ',')) continue;
        return tj_ch(j, ']');
    }
}
/* 1 on success; the whole header must be one object followed only by spaces */
static int ts_parse_header(const char *h, size_t len, ts_hdr *out)
{
    ts_js j;
    memset(out, 0, sizeof *out);
    j.p = h; j.end = h + len;
    if (!tj_ch(&j, '{')) return 0;
    if (!tj_ch(&j, '}'))
        for (;;) {
            char key[64];
            if (!tj_str(&j, key, sizeof key) || !tj_ch(&j, ':') || !tj_ch(&j, '{')) return 0;
            if (strcmp(key, "__metadata__") == 0) {
                if (!tj_ch(&j, '}'))
                    for (;;) {
                        if (out->n_meta >= 16) return 0;
                        if (!tj_str(&j, out->mk[out->n_meta], 64) || !tj_ch(&j, ':') || !tj_str(&j, out->mv[out->n_meta], 256)) return 0;
                        out->n_meta++;
                        if (tj_ch(&j, ',')) continue;
                        if (tj_ch(&j, '}')) break;
                        return 0;
                    }
            } else {
                ts_ent *e;
                if (out->n >= 64) return 0;
                e = &out->e[out->n++];
                snprintf(e->name, sizeof e->name, "%s", key);
                e->ndim = -1;
                for (;;) {
                    char f[32];
                    if (!tj_str(&j, f, sizeof f) || !tj_ch(&j, ':')) return 0;
                    if (strcmp(f, "dtype") == 0) { if (!tj_str(&j, e->dtype, sizeof e->dtype)) return 0; }
                    else if (strcmp(f, "shape") == 0) { if (!tj_uints(&j, e->shape, 4, &e->ndim)) return 0; }
                    else if (strcmp(f, "data_offsets") == 0) { if (!tj_uints(&j, e->off, 2, &e->n_off)) return 0; }
                    else return 0;
                    if (tj_ch(&j, ',')) continue;
                    if (tj_ch(&j, '}')) break;
                    return 0;
                }
            }
            if (tj_ch(&j, ',')) continue;
            if (tj_ch(&j, '}')) break;
            return 0;
        }
    while (j.p < j.end && *j.p == ' ') j.p++;
    return j.p == j.end;
}

/* ---- what the file must contain, derived from the configuration alone ---- */
typedef struct ts_expect { char name[32]; int rows, cols; const ncsn_layer *L; int is_bias; } ts_expect;
static int ts_expected(const ncsn_model *m, ts_expect *x)
{
    const ncsn_config *c = &m->cfg;
    int n = 0, l, in = c->dim + (c->cond == NCSN_COND_EMBED ? c->embed_dim : 1);
#define TS_LIN(prefix_fmt, idx, layer, r, cc) do { \
        snprintf(x[n].name, 32, prefix_fmt ".weight", idx); x[n].rows = r; x[n].cols = cc; x[n].L = layer; x[n].is_bias = 0; n++; \
        snprintf(x[n].name, 32, prefix_fmt ".bias", idx); x[n].rows = r; x[n].cols = 0; x[n].L = layer; x[n].is_bias = 1; n++; } while (0)
    if (c->cond == NCSN_COND_EMBED) {
        TS_LIN("sigma_embed.%d", 1, &m->emb[0], c->embed_dim, c->embed_dim);
        TS_LIN("sigma_embed.%d", 3, &m->emb[1], c->embed_dim, c->embed_dim);
    }
    for (l = 0; l <= c->n_hidden; l++) {
        int o = l < c->n_hidden ? c->hidden[l] : c->dim;
        TS_LIN("net.%d", 2 * l, &m->layers[l], o, in);
        in = o;
    }
#undef TS_LIN
    return n;
}

static uint32_t ts_le32(const unsigned char *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

/* the value of PyTorch element [r][c] (c = 0 for a bias) in the model's own layout */
static float ts_param(const ncsn_model *m, const ts_expect *x, int r, int c)
{
    return x->is_bias ? m->params[x->L->b + r] : m->params[x->L->w + (size_t)c * x->L->out + r];
}

/* the layout check of a file written by ncsn_model_save for model m */
static void ts_check_layout(const ncsn_model *m, const unsigned char *buf, size_t len, const char *what)
{
    static ts_hdr h;
    ts_expect ex[2 * NCSN_MAX_HIDDEN + 8];
    unsigned long long hl = 0, data_len, pos;
    int n_ex = ts_expected(m, ex), i, k, bad_data = 0;
    int order[64];
    CHECK(len >= 8, "%s: file of %lu bytes", what, (unsigned long)len);
    if (len < 8) return;
    for (i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    CHECK(hl <= len - 8, "%s: header length %llu beyond the file (%lu bytes)", what, hl, (unsigned long)len);
    if (hl > len - 8) return;
    CHECK((8 + hl) % 8 == 0, "%s: data starts at byte %llu, not 8-byte aligned", what, 8 + hl);
    data_len = len - 8 - hl;
    if (!ts_parse_header((const char *)buf + 8, (size_t)hl, &h)) { CHECK(0, "%s: header is not the expected JSON: %.*s", what, (int)hl, (const char *)buf + 8); return; }
    CHECK(h.n == n_ex, "%s: %d tensors in the file, want %d", what, h.n, n_ex);
    for (k = 0; k < h.n_meta; k++)
        if (strcmp(h.mk[k], "format") == 0) CHECK(strcmp(h.mv[k], "pt") == 0, "%s: metadata format = '%s'", what, h.mv[k]);
    for (i = 0; i < n_ex; i++) {
        const ts_expect *x = &ex[i];
        int found = -1, dup = 0;
        for (k = 0; k < h.n; k++)
            if (strcmp(h.e[k].name, x->name) == 0) { if (found >= 0) dup = 1; found = k; }
        CHECK(found >= 0 && !dup, "%s: tensor %s %s", what, x->name, dup ? "appears twice" : "is missing");
        if (found < 0) return;
        {
            const ts_ent *e = &h.e[found];
            unsigned long long count = (unsigned long long)x->rows * (unsigned long long)(x->cols ? x->cols : 1);
            int r, c, ok_shape = x->cols ? (e->ndim == 2 && e->shape[0] == (unsigned long long)x->rows && e->shape[1] == (unsigned long long)x->cols)
                                          : (e->ndim == 1 && e->shape[0] == (unsigned long long)x->rows);
            CHECK(strcmp(e->dtype, "F32") == 0, "%s: %s dtype '%s'", what, x->name, e->dtype);
            CHECK(ok_shape, "%s: %s shape has %d dims [%llu, %llu], want [%d, %d]", what, x->name, e->ndim, e->shape[0], e->shape[1], x->rows, x->cols);
            CHECK(e->n_off == 2 && e->off[1] >= e->off[0] && e->off[1] - e->off[0] == 4 * count && e->off[1] <= data_len,
                  "%s: %s data_offsets [%llu, %llu] for %llu floats in %llu bytes", what, x->name, e->off[0], e->off[1], count, data_len);
            if (!ok_shape || e->off[1] > data_len || e->off[1] - e->off[0] != 4 * count) return;
            for (r = 0; r < x->rows; r++)
                for (c = 0; c < (x->cols ? x->cols : 1); c++) {
                    uint32_t fb = ts_le32(buf + 8 + hl + e->off[0] + 4 * ((size_t)r * (x->cols ? x->cols : 1) + c));
                    if (fb != t_f2u(ts_param(m, x, r, c))) bad_data++;
                }
        }
    }
    CHECK(bad_data == 0, "%s: %d values differ from the model (weights must be [out][in], little-endian)", what, bad_data);
    /* offsets: sorted by begin they tile [0, data_len) without holes or overlaps */
    for (i = 0; i < h.n; i++) order[i] = i;
    for (i = 1; i < h.n; i++) {
        int v = order[i], q = i;
        while (q > 0 && h.e[order[q - 1]].off[0] > h.e[v].off[0]) { order[q] = order[q - 1]; q--; }
        order[q] = v;
    }
    pos = 0;
    for (i = 0; i < h.n; i++) {
        const ts_ent *e = &h.e[order[i]];
        CHECK(e->off[0] == pos, "%s: %s starts at %llu, want %llu (contiguous)", what, e->name, e->off[0], pos);
        pos = e->off[1];
    }
    CHECK(pos == data_len, "%s: the tensors end at %llu, the data at %llu", what, pos, data_len);
}

static int ts_same_config(const ncsn_config *a, const ncsn_config *b)
{
    int l;
    if (a->dim != b->dim || a->n_hidden != b->n_hidden || a->cond != b->cond || a->act != b->act || a->scale_by_sigma != b->scale_by_sigma ||
        a->sigma_input != b->sigma_input)
        return 0;
    if (a->cond == NCSN_COND_EMBED && a->embed_dim != b->embed_dim) return 0;
    for (l = 0; l < a->n_hidden; l++) if (a->hidden[l] != b->hidden[l]) return 0;
    return 1;
}

/* a model that loaded must be usable: valid config, finite parameters, a forward pass */
static int ts_valid_model(ncsn_model *m)
{
    size_t k;
    float x[2 * 8], out[2 * 8], s[2] = { 0.5f, 2.0f };
    if (!m || ncsn_config_check(&m->cfg) != NCSN_OK || m->cfg.dim > 8) return 0;
    for (k = 0; k < m->n_params; k++) if (!ncsn__isfinite(m->params[k])) return 0;
    for (k = 0; k < 16; k++) x[k] = 0.25f * (float)k - 1.0f;
    return ncsn_model_forward(m, out, x, s, 2) == NCSN_OK;
}

/* ---- round trip ---- */
static void ts_round_trip(const ncsn_config *cfg, uint64_t seed, const char *what)
{
    char path[512];
    ncsn_model *m = NULL, *m2 = NULL;
    ncsn_rng rng;
    unsigned char *buf = NULL;
    size_t len = 0;
    ncsn_status st;
    if (!ts_tmpname(path, sizeof path)) { CHECK(0, "%s: no temporary file name", what); return; }
    if (ncsn_model_create(&m, cfg) != NCSN_OK) { CHECK(0, "%s: create: %s", what, ncsn_last_error()); remove(path); return; }
    ncsn_rng_seed(&rng, seed, 17);
    ncsn_model_init(m, &rng);
    if (m->cfg.zero_init_output) {  /* make the last layer non-zero, so that its layout is checked too */
        const ncsn_layer *L = &m->layers[m->n_layers - 1];
        int k;
        for (k = 0; k < L->in * L->out; k++) m->params[L->w + k] = 0.01f * (float)(k + 1);
        for (k = 0; k < L->out; k++) m->params[L->b + k] = -0.02f * (float)(k + 1);
    }
    st = ncsn_model_save(m, path);
    CHECK(st == NCSN_OK, "%s: save: %s", what, ncsn_last_error());
    buf = t_read_file(path, &len);
    CHECK(buf != NULL, "%s: cannot read back %s", what, path);
    if (buf) ts_check_layout(m, buf, len, what);
    ts_alloc_max = 0;
    st = ncsn_model_load(&m2, path);
    CHECK(st == NCSN_OK && m2, "%s: load: %s", what, ncsn_last_error());
    CHECK(ts_alloc_max <= sizeof(ncsn__st_file) + 2 * len, "%s: loading %lu bytes allocated %lu at once", what, (unsigned long)len,
          (unsigned long)ts_alloc_max);
    if (m2) {
        float x[5 * 3], s[5] = { 0.1f, 1.0f, 0.1f, 4.0f, 1.0f }, o1[15], o2[15];
        int i;
        CHECK(ts_same_config(&m->cfg, &m2->cfg), "%s: config after load differs", what);
        CHECK(m2->n_params == m->n_params && memcmp(m->params, m2->params, m->n_params * sizeof(float)) == 0,
              "%s: parameters after load differ", what);
        for (i = 0; i < 5 * m->cfg.dim; i++) x[i] = 0.3f * (float)i - 1.0f;
        ncsn_model_forward(m, o1, x, s, 5);
        ncsn_model_forward(m2, o2, x, s, 5);
        CHECK(memcmp(o1, o2, sizeof(float) * 5 * (size_t)m->cfg.dim) == 0, "%s: loaded model computes different bits", what);
    }
    if (buf) { /* the same bytes through load_mem */
        ncsn_model *m3 = NULL;
        st = ncsn_model_load_mem(&m3, buf, len);
        CHECK(st == NCSN_OK && m3 && memcmp(m->params, m3->params, m->n_params * sizeof(float)) == 0, "%s: load_mem: %s", what, ncsn_last_error());
        ncsn_model_free(m3);
    }
    CHECK(remove(path) == 0, "%s: cannot remove %s", what, path);
    free(buf);
    ncsn_model_free(m);
    ncsn_model_free(m2);
}

/* sigma_input in the metadata: "log" written only for ln sigma (older files keep their bytes),
   read back as written; "raw" is accepted; the key is reserved */
static void ts_sigma_input(void)
{
    char path[512], v[16];
    ncsn_config c = ncsn_config_embed(2, 6, 5, 2);
    ncsn_model *m = NULL, *r = NULL;
    ncsn_rng rng;
    unsigned char *buf = NULL;
    size_t len = 0, i;
    int lg;
    static const char *const extra[] = { "sigma_input", "raw", NULL };
    if (!ts_tmpname(path, sizeof path)) { CHECK(0, "sigma_input: no temporary file name"); return; }
    for (lg = 0; lg < 2; lg++) {
        c.sigma_input = lg ? NCSN_SIGMA_LOG : NCSN_SIGMA_RAW;
        if (ncsn_model_create(&m, &c) != NCSN_OK) { CHECK(0, "sigma_input: create: %s", ncsn_last_error()); break; }
        ncsn_rng_seed(&rng, 8, 8);
        ncsn_model_init(m, &rng);
        CHECK(ncsn_model_save(m, path) == NCSN_OK && (buf = t_read_file(path, &len)) != NULL, "sigma_input: save: %s", ncsn_last_error());
        if (!lg) CHECK(buf && ncsn_file_meta_mem(buf, len, "sigma_input", v, sizeof v) == NCSN_ERR_FORMAT, "a raw-sigma model wrote the key sigma_input");
        else CHECK(buf && ncsn_file_meta_mem(buf, len, "sigma_input", v, sizeof v) == NCSN_OK && strcmp(v, "log") == 0,
                   "a ln-sigma model's file: sigma_input = '%s'", v);
        if (buf && lg) {   /* the same file saying "raw" loads as a raw-sigma model */
            unsigned char *q = NULL;
            for (i = 0; i + 5 < len; i++)
                if (memcmp(buf + i, "\"log\"", 5) == 0) { q = buf + i + 1; break; }
            if (q) memcpy(q, "raw", 3);
            CHECK(q && ncsn_model_load_mem(&r, buf, len) == NCSN_OK && r->cfg.sigma_input == NCSN_SIGMA_RAW, "sigma_input = raw: %s",
                  ncsn_last_error());
            ncsn_model_free(r);
            r = NULL;
        }
        CHECK(ncsn_checkpoint_save(m, path, NULL, NULL, NULL, 0, 0, extra) == NCSN_ERR_ARG && strstr(ncsn_last_error(), "sigma_input"),
              "extra_meta key sigma_input must be refused: %s", ncsn_last_error());
        free(buf);
        buf = NULL;
        ncsn_model_free(m);
        m = NULL;
    }
    remove(path);
}

/* ---- building files by hand ---- */
typedef struct ts_buf { unsigned char *p; size_t len, cap; } ts_buf;
static void tb_put(ts_buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t nc = (b->len + n) * 2 + 64;
        unsigned char *np = (unsigned char *)realloc(b->p, nc);
        if (!np) return;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
/* header length (unless raw_len is given), header, data */
static void tb_file(ts_buf *b, const char *hdr, size_t hlen, const unsigned char *data, size_t dlen, int pad, const unsigned long long *raw_len)
{
    unsigned char lb[8];
    unsigned long long hl = hlen;
    int i;
    b->len = 0;
    while (pad && (8 + hl) % 8) hl++;
    if (raw_len) hl = *raw_len;
    for (i = 0; i < 8; i++) lb[i] = (unsigned char)(hl >> (8 * i));
    tb_put(b, lb, 8);
    tb_put(b, hdr, hlen);
    for (i = 0; pad && !raw_len && (8 + hlen + (size_t)i) % 8; i++) tb_put(b, " ", 1);
    tb_put(b, data, dlen);
}

/* replace the first occurrence of `from` in src by `to` */
static const char *ts_subst(char *dst, size_t n, const char *src, const char *from, const char *to)
{
    const char *p = strstr(src, from);
    if (!p) { snprintf(dst, n, "MISSING PATTERN %s", from); return dst; }
    snprintf(dst, n, "%.*s%s%s", (int)(p - src), src, to, p + strlen(from));
    return dst;
}

/* the tiny CONCAT model: dim 1, one hidden layer of 2 */
static const char ts_tiny[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
    "\"net.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
    "\"net.2.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[24,32]},"
    "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}}";
static unsigned char ts_tiny_data[36];

static void ts_tiny_init(void)
{
    int i;
    for (i = 0; i < 9; i++) {
        uint32_t u = t_f2u(0.125f * (float)(i + 1) * (i % 2 ? -1.0f : 1.0f));
        ts_tiny_data[4 * i] = (unsigned char)u; ts_tiny_data[4 * i + 1] = (unsigned char)(u >> 8);
        ts_tiny_data[4 * i + 2] = (unsigned char)(u >> 16); ts_tiny_data[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

/* expect NCSN_ERR_FORMAT, a message, no model, and an allocation bounded by the input */
static void ts_expect_format(const unsigned char *buf, size_t len, const char *what)
{
    ncsn_model *m = (ncsn_model *)&ts_tiny_data;  /* must be overwritten */
    ncsn_status st;
    unsigned char *copy = (unsigned char *)malloc(len ? len : 1);   /* exact size: overreads leave the block */
    if (!copy) { CHECK(0, "out of memory"); return; }
    if (len) memcpy(copy, buf, len);
    ncsn__errbuf[0] = 0;
    ts_alloc_max = 0;
    ts_alloc_limit = (size_t)1 << 22;   /* 4 MiB: far above any file here; a bigger request is the bug */
    st = ncsn_model_load_mem(&m, copy, len);
    ts_alloc_limit = (size_t)-1;
    if (st == NCSN_OK) {
        CHECK(0, "%s: loaded (NCSN_OK), want NCSN_ERR_FORMAT", what);
        ncsn_model_free(m);
    } else {
        CHECK(st == NCSN_ERR_FORMAT, "%s: status %d (%s), want NCSN_ERR_FORMAT; message '%s'", what, (int)st, ncsn_status_string(st), ncsn_last_error());
        CHECK(ncsn_last_error()[0] != 0, "%s: empty error message", what);
        CHECK(m == NULL, "%s: *out not NULL after failure", what);
    }
    CHECK(ts_alloc_max <= sizeof(ncsn__st_file) + 2 * len + 4096, "%s: a %lu-byte input made the loader request %lu bytes at once",
          what, (unsigned long)len, (unsigned long)ts_alloc_max);
    free(copy);
}

static void ts_hostile(void)
{
    static char h[8192];
    ts_buf b = { NULL, 0, 0 };
    unsigned long long big;
    ncsn_model *m = NULL;
    int i;
    ts_tiny_init();
    /* the unmodified tiny file loads (so each failure below is due to its one change) */
    tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 36, 1, NULL);
    CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_OK && m && m->cfg.dim == 1 && m->cfg.hidden[0] == 2,
          "tiny file: %s", ncsn_last_error());
    if (m) CHECK(m->params[m->layers[0].w + 1] == 0.125f * 3 && m->params[m->layers[0].w + 2] == -0.125f * 2,
                 "tiny file: net.0.weight [1][0] / [0][1] not transposed into [in][out]");
    ncsn_model_free(m);
    m = NULL;

    ts_expect_format(b.p, 0, "empty input");
    CHECK(ncsn_model_load_mem(&m, NULL, 0) == NCSN_ERR_FORMAT && m == NULL, "NULL input");
    ts_expect_format(b.p, 7, "7 bytes");
    ts_expect_format(b.p, 8, "only the header length");
    big = strlen(ts_tiny) + 100; tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 36, 0, &big);
    ts_expect_format(b.p, b.len, "header length beyond the file");
    big = 1ULL << 63; tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 36, 0, &big);
    ts_expect_format(b.p, b.len, "header length 2^63");
    big = ~0ULL; tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 36, 0, &big);
    ts_expect_format(b.p, b.len, "header length 2^64-1");
    big = 0; tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 36, 0, &big);
    ts_expect_format(b.p, b.len, "header length 0");
    tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 32, 1, NULL);
    ts_expect_format(b.p, b.len, "data truncated by 4 bytes");
    tb_file(&b, ts_tiny, strlen(ts_tiny), ts_tiny_data, 0, 1, NULL);
    ts_expect_format(b.p, b.len, "no data");

#define TS_HDR(what, text) do { const char *t_ = (text); tb_file(&b, t_, strlen(t_), ts_tiny_data, 36, 1, NULL); ts_expect_format(b.p, b.len, what); } while (0)
#define TS_SUB(what, from, to) TS_HDR(what, ts_subst(h, sizeof h, ts_tiny, from, to))
    TS_HDR("non-JSON header", "this is not JSON at all, just text.....");
    TS_HDR("JSON array header", "[1, 2, 3]");
    TS_HDR("empty object", "{}");
    TS_HDR("unterminated object", "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}");
    TS_HDR("unterminated key string", "{\"net.0.weight");
    TS_SUB("unterminated string value", "\"F32\"}", "\"F32}");
    TS_SUB("unterminated metadata string", "\"pt\"}", "\"pt}");
    TS_SUB("trailing garbage after the object", "[32,36]}}", "[32,36]}}xyz");
    TS_SUB("trailing comma", "[32,36]}}", "[32,36]},}");
    TS_SUB("control character in a key", "net.0.bias", "net.0\001bias");
    TS_SUB("dtype F16", "\"F32\",\"shape\":[2]", "\"F16\",\"shape\":[2]");
    TS_SUB("dtype F64", "\"F32\"", "\"F64\"");
    TS_SUB("dtype not a string", "\"dtype\":\"F32\",\"shape\":[2]", "\"dtype\":32,\"shape\":[2]");
    TS_SUB("missing dtype", "\"dtype\":\"F32\",\"shape\":[2]", "\"shape\":[2]");
    TS_SUB("missing shape", "\"shape\":[2],", "");
    TS_SUB("missing data_offsets", ",\"data_offsets\":[16,24]", "");
    TS_SUB("shape / offsets mismatch", "\"shape\":[2],", "\"shape\":[3],");
    TS_SUB("offsets / shape mismatch", "[16,24]", "[16,28]");
    TS_SUB("offsets beyond the data", "[32,36]", "[36,40]");
    TS_SUB("offsets far beyond the data", "[32,36]", "[4294967296,4294967300]");
    TS_SUB("begin > end", "[16,24]", "[24,16]");
#if defined(NCSN__POSIX_FILES)
    {   /* read from a file, the header is checked before the size is known: the message once gave
           that unknown size as 18446744073709551615 data bytes */
        char path[1024];
        FILE *fp;
        unsigned char *rb = NULL;
        size_t rlen = 0;
        if (ts_tmpname(path, sizeof path) && (fp = fopen(path, "wb")) != NULL) {
            fwrite(b.p, 1, b.len, fp);
            fclose(fp);
            CHECK(ncsn_read_safetensors(path, &rb, &rlen) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "(the end is before the begin)") &&
                  !strstr(ncsn_last_error(), "18446744073709551615"), "reversed data_offsets read from a file: '%s'", ncsn_last_error());
            ncsn_free(rb);
            remove(path);
        } else CHECK(0, "reversed data_offsets: no temporary file");
    }
#endif
    TS_SUB("one offset", "[16,24]", "[16]");
    TS_SUB("three offsets", "[16,24]", "[16,24,32]");
    TS_SUB("offset overflowing 64 bits", "[32,36]", "[32,36893488147419103268]");
    TS_SUB("offset 2^64", "[32,36]", "[18446744073709551616,18446744073709551620]");
    TS_SUB("shape overflowing 64 bits", "\"shape\":[1]", "\"shape\":[100000000000000000000001]");
    TS_SUB("negative shape", "\"shape\":[2],", "\"shape\":[-2],");
    TS_SUB("fractional shape", "\"shape\":[2],", "\"shape\":[2.0],");
    TS_SUB("shape with 3 dims", "\"shape\":[2,2]", "\"shape\":[1,2,2]");
    TS_SUB("scalar bias", "\"shape\":[1],", "\"shape\":[],");
    TS_SUB("weight as a vector", "\"shape\":[1,2]", "\"shape\":[2]");
    TS_SUB("transposed weight", "\"shape\":[1,2]", "\"shape\":[2,1]");
    TS_SUB("bias as a matrix", "\"shape\":[2],", "\"shape\":[2,1],");
    TS_SUB("missing tensor", ",\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}", "");
    TS_SUB("missing first layer", "\"net.0.weight\"", "\"net.1.weight\"");
    TS_SUB("extra tensor", "}}", "},\"extra\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
    {   /* a tensor name is quoted escaped: its JSON escapes decode to an OSC title, a screen clear
           and a forged line, which must not reach a terminal raw */
        static const unsigned char d40[40];
        ts_subst(h, sizeof h, ts_tiny, "}}", "},\"\\u001b]0;x\\u0007\\u001b[2J\\nforged: 1\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[36,40]}}");
        tb_file(&b, h, strlen(h), d40, 40, 1, NULL);
        CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "'\\x1b]0;x\\x07\\x1b[2J\\x0aforged: 1'") &&
              !strpbrk(ncsn_last_error(), "\x1b\x07\n"), "a tensor name with escape sequences, quoted raw: '%s'", ncsn_last_error());
    }
    TS_SUB("duplicate tensor", "}}", "},\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}}");
    TS_SUB("duplicate instead of another", "\"net.2.bias\"", "\"net.0.bias\"");
    TS_SUB("embedding of width 1", "}}",
           "},\"sigma_embed.1.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},"
           "\"sigma_embed.1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
    TS_SUB("tensor not an object", "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}", "\"net.2.bias\":[1]");
    TS_SUB("metadata not an object", "{\"format\":\"pt\"}", "[\"pt\"]");
    TS_SUB("metadata value not a string", "{\"format\":\"pt\"}", "{\"format\":1}");
    TS_SUB("unknown activation in metadata", "{\"format\":\"pt\"}", "{\"format\":\"pt\",\"act\":\"relu\"}");
    TS_SUB("scale_by_sigma = 7 in metadata", "{\"format\":\"pt\"}", "{\"scale_by_sigma\":\"7\"}");
    TS_SUB("scale_by_sigma = -1 in metadata", "{\"format\":\"pt\"}", "{\"scale_by_sigma\":\"-1\"}");
    TS_SUB("unknown sigma_input in metadata", "{\"format\":\"pt\"}", "{\"format\":\"pt\",\"sigma_input\":\"sqrt\"}");
    TS_SUB("sigma_input twice in metadata", "{\"format\":\"pt\"}", "{\"sigma_input\":\"log\",\"sigma_input\":\"log\"}");
    {   /* the data buffer must be covered exactly (safetensors: no holes, no overlaps) */
        unsigned char d40[40];
        memset(d40, 0, sizeof d40);
        memcpy(d40, ts_tiny_data, 36);
#define TS_COVER(what, from, to, dlen) do { ts_subst(h, sizeof h, ts_tiny, from, to); tb_file(&b, h, strlen(h), d40, dlen, 1, NULL); \
        ts_expect_format(b.p, b.len, what); } while (0)
        /* overlaps with 36 data bytes: the old size check (9 floats fit) let these through */
        TS_COVER("two tensors overlap by 4 bytes", "[32,36]", "[28,32]", 36);
        TS_COVER("a tensor aliases another's bytes", "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}",
                 "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}", 36);
        TS_COVER("a gap of 4 bytes between tensors", "[32,36]", "[36,40]", 40);
        TS_COVER("4 bytes after the last tensor", "[32,36]", "[32,36]", 40);
        TS_COVER("4 bytes before the first tensor", "\"shape\":[2,2],\"data_offsets\":[0,16]", "\"shape\":[2,2],\"data_offsets\":[4,20]", 40);
#undef TS_COVER
        /* the message says which bytes */
        ts_subst(h, sizeof h, ts_tiny, "[32,36]", "[28,32]");
        tb_file(&b, h, strlen(h), d40, 36, 1, NULL);
        CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "overlap") &&
              strstr(ncsn_last_error(), "net.2.bias") && strstr(ncsn_last_error(), "net.2.weight"), "overlap message: %s", ncsn_last_error());
        ts_subst(h, sizeof h, ts_tiny, "[32,36]", "[36,40]");
        tb_file(&b, h, strlen(h), d40, 40, 1, NULL);
        CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_ERR_FORMAT && strstr(ncsn_last_error(), "[32, 36)"), "gap message: %s", ncsn_last_error());
        /* the tensors in another order than their data is fine: only the coverage matters */
        ts_subst(h, sizeof h, ts_tiny, "\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},", "");
        {
            char h2[8192];
            size_t k = strlen(h);
            snprintf(h2, sizeof h2, "%.*s,\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", (int)(k - 1), h);
            tb_file(&b, h2, strlen(h2), d40, 36, 1, NULL);
            CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_OK, "keys out of data order: %s", ncsn_last_error());
            ncsn_model_free(m);
            m = NULL;
        }
    }
    TS_SUB("ignored field without a value", "\"dtype\":\"F32\",\"shape\":[2]", "\"dtype\":\"F32\",\"x\":,\"shape\":[2]");
    TS_SUB("ignored field with a bare word", "\"dtype\":\"F32\",\"shape\":[2]", "\"dtype\":\"F32\",\"x\":hello,\"shape\":[2]");
    TS_SUB("ignored field with an unterminated string", "\"dtype\":\"F32\",\"shape\":[2]", "\"dtype\":\"F32\",\"x\":\"abc\\");
    { /* deeply nested JSON in an ignored field */
        int depth = 100000, p = 0;
        char *deep = (char *)malloc((size_t)depth * 2 + 512), *q;
        if (deep) {
            q = deep;
            q += sprintf(q, "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16],\"junk\":");
            for (p = 0; p < depth; p++) *q++ = '[';
            for (p = 0; p < depth; p++) *q++ = ']';
            sprintf(q, "},%s", strstr(ts_tiny, "\"net.0.bias\""));
            TS_HDR("100000 nested arrays in an ignored field", deep);
            q = deep + sprintf(deep, "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16],\"junk\":");
            for (p = 0; p < depth; p++) { *q++ = '{'; *q++ = '"'; *q++ = '"'; *q++ = ':'; if (q - deep > depth) break; }
            sprintf(q, "1},%s", strstr(ts_tiny, "\"net.0.bias\""));
            TS_HDR("deeply nested unterminated objects in an ignored field", deep);
            free(deep);
        }
        /* moderate nesting in an ignored field is fine */
        ts_subst(h, sizeof h, ts_tiny, "\"dtype\":\"F32\",\"shape\":[2]",
                 "\"dtype\":\"F32\",\"note\":{\"a\":[1,2.5e-3,{\"b\":[true,false,null]}],\"c\":\"x\\\"y\"},\"shape\":[2]");
        tb_file(&b, h, strlen(h), ts_tiny_data, 36, 1, NULL);
        CHECK(ncsn_model_load_mem(&m, b.p, b.len) == NCSN_OK, "nested ignored field of depth 4: %s", ncsn_last_error());
        ncsn_model_free(m);
        m = NULL;
    }
    { /* NaN and infinite weights */
        unsigned char d[36];
        static const uint32_t bad[3] = { 0x7fc00000u, 0x7f800000u, 0xff800001u };
        int w;
        for (w = 0; w < 3; w++)
            for (i = 0; i < 9; i += 4) {
                char what[64];
                memcpy(d, ts_tiny_data, 36);
                d[4 * i] = (unsigned char)bad[w]; d[4 * i + 1] = (unsigned char)(bad[w] >> 8);
                d[4 * i + 2] = (unsigned char)(bad[w] >> 16); d[4 * i + 3] = (unsigned char)(bad[w] >> 24);
                tb_file(&b, ts_tiny, strlen(ts_tiny), d, 36, 1, NULL);
                snprintf(what, sizeof what, "value 0x%08x at float %d", (unsigned)bad[w], i);
                ts_expect_format(b.p, b.len, what);
            }
    }
    /* a header that declares a huge network with zero-sized tensors: the file is 200 bytes, so
       the loader must reject it without allocating the network (gigabytes) first */
    TS_HDR("huge network declared by empty tensors",
           "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[1048576,0],\"data_offsets\":[0,0]},"
           "\"net.2.weight\":{\"dtype\":\"F32\",\"shape\":[1048576,0],\"data_offsets\":[0,0]}}");
    TS_HDR("large network declared by empty tensors",
           "{\"net.0.weight\":{\"dtype\":\"F32\",\"shape\":[4096,0],\"data_offsets\":[0,0]},"
           "\"net.0.bias\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
           "\"net.2.weight\":{\"dtype\":\"F32\",\"shape\":[4096,0],\"data_offsets\":[0,0]},"
           "\"net.2.bias\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
#undef TS_SUB
#undef TS_HDR
    free(b.p);
}

/* ---- files written the way torch writes them (safetensors.torch.save_file) ---- */
typedef struct ts_t { char name[32]; int rows, cols; float *v; } ts_t;

/* key order and data order are separate permutations; the header uses spaces and newlines */
static void ts_torch_file(ts_buf *b, ts_t *t, int n, const int *key_order, const int *data_order, const char *meta, int pretty)
{
    static char hdr[16384];
    size_t off[64], hl = 0, pos = 0;
    unsigned char *data;
    int i, k;
    for (i = 0; i < n; i++) {
        int q = data_order[i];
        off[q] = pos;
        pos += 4 * (size_t)t[q].rows * (size_t)(t[q].cols ? t[q].cols : 1);
    }
    hl += (size_t)sprintf(hdr + hl, pretty ? "{\n  " : "{");
    if (meta) hl += (size_t)sprintf(hdr + hl, pretty ? "\"__metadata__\" : %s,\n  " : "\"__metadata__\":%s,", meta);
    for (i = 0; i < n; i++) {
        int q = key_order[i];
        size_t cnt = (size_t)t[q].rows * (size_t)(t[q].cols ? t[q].cols : 1);
        if (pretty && t[q].cols)
            hl += (size_t)sprintf(hdr + hl, "\"%s\" : { \"dtype\" : \"F32\", \"shape\" : [ %d, %d ], \"data_offsets\" : [ %lu, %lu ] }",
                                  t[q].name, t[q].rows, t[q].cols, (unsigned long)off[q], (unsigned long)(off[q] + 4 * cnt));
        else if (pretty)
            hl += (size_t)sprintf(hdr + hl, "\"%s\" : { \"dtype\" : \"F32\", \"shape\" : [ %d ], \"data_offsets\" : [ %lu, %lu ] }",
                                  t[q].name, t[q].rows, (unsigned long)off[q], (unsigned long)(off[q] + 4 * cnt));
        else if (t[q].cols)   /* the reference writer's field order (serde): dtype, shape, data_offsets */
            hl += (size_t)sprintf(hdr + hl, "\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[%lu,%lu]}",
                                  t[q].name, t[q].rows, t[q].cols, (unsigned long)off[q], (unsigned long)(off[q] + 4 * cnt));
        else
            hl += (size_t)sprintf(hdr + hl, "\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%lu,%lu]}",
                                  t[q].name, t[q].rows, (unsigned long)off[q], (unsigned long)(off[q] + 4 * cnt));
        hl += (size_t)sprintf(hdr + hl, i + 1 < n ? (pretty ? ",\n  " : ",") : (pretty ? "\n}" : "}"));
    }
    data = (unsigned char *)calloc(pos + 1, 1);
    if (!data) return;
    for (k = 0; k < n; k++) {
        size_t cnt = (size_t)t[k].rows * (size_t)(t[k].cols ? t[k].cols : 1), e;
        for (e = 0; e < cnt; e++) {
            uint32_t u = t_f2u(t[k].v[e]);
            unsigned char *p = data + off[k] + 4 * e;
            p[0] = (unsigned char)u; p[1] = (unsigned char)(u >> 8); p[2] = (unsigned char)(u >> 16); p[3] = (unsigned char)(u >> 24);
        }
    }
    tb_file(b, hdr, hl, data, pos, 1, NULL);
    free(data);
}

static void ts_torch_style(void)
{
    int variant;
    for (variant = 0; variant < 3; variant++) {
        /* 0: EMBED dim 2, E 4, hidden [3, 5], keys shuffled, pretty, no metadata
           1: CONCAT dim 3, 6 hidden layers (net.10, net.12), keys sorted as strings, compact, {"format":"pt"}
           2: EMBED with metadata at the end holding long values and many keys (valid safetensors) */
        ts_t t[40];
        int n = 0, key_order[40], data_order[40], i, l, dim, E, depth, hid[8];
        float vals[4096];
        size_t used = 0;
        ts_buf b = { NULL, 0, 0 };
        ncsn_model *m = NULL;
        ncsn_status st;
        char what[64];
        static char meta[8192];
        const char *metap = NULL;
        snprintf(what, sizeof what, "torch-style file %d", variant);
        dim = variant == 1 ? 3 : 2;
        E = variant == 1 ? 0 : 4;
        depth = variant == 1 ? 6 : 2;
        for (l = 0; l < depth; l++) hid[l] = 3 + (l * 2) % 5;
#define TS_ADD(nm_fmt, idx, r, c) do { snprintf(t[n].name, 32, nm_fmt, idx); t[n].rows = r; t[n].cols = c; t[n].v = vals + used; \
        { size_t e_, c_ = (size_t)(r) * (size_t)((c) ? (c) : 1); for (e_ = 0; e_ < c_; e_++) vals[used + e_] = (float)(n + 1) + 0.001f * (float)e_; used += c_; } n++; } while (0)
        if (E) {
            TS_ADD("sigma_embed.%d.weight", 1, E, E); TS_ADD("sigma_embed.%d.bias", 1, E, 0);
            TS_ADD("sigma_embed.%d.weight", 3, E, E); TS_ADD("sigma_embed.%d.bias", 3, E, 0);
        }
        {
            int in = dim + (E ? E : 1);
            for (l = 0; l <= depth; l++) {
                int o = l < depth ? hid[l] : dim;
                TS_ADD("net.%d.weight", 2 * l, o, in);
                TS_ADD("net.%d.bias", 2 * l, o, 0);
                in = o;
            }
        }
#undef TS_ADD
        for (i = 0; i < n; i++) { key_order[i] = i; data_order[i] = i; }
        if (variant == 1) {   /* sorted by name as strings: net.0, net.10, net.12, net.2, ... */
            for (i = 1; i < n; i++) {
                int v = key_order[i], q = i;
                while (q > 0 && strcmp(t[key_order[q - 1]].name, t[v].name) > 0) { key_order[q] = key_order[q - 1]; q--; }
                key_order[q] = v;
            }
            memcpy(data_order, key_order, sizeof key_order);
            metap = "{\"format\":\"pt\"}";
        } else {              /* a fixed shuffle of the keys, the data in yet another order */
            for (i = n - 1; i > 0; i--) { int j = (i * 7 + 3) % (i + 1), tmp = key_order[i]; key_order[i] = key_order[j]; key_order[j] = tmp; }
            for (i = 0; i < n; i++) data_order[i] = n - 1 - i;
        }
        if (variant == 2) {
            size_t q = 0;
            q += (size_t)sprintf(meta + q, "{\"format\":\"pt\",\"training_configuration_json\":\"");
            for (i = 0; i < 300; i++) meta[q++] = (char)('a' + i % 26);
            q += (size_t)sprintf(meta + q, "\"");
            for (i = 0; i < 40; i++) q += (size_t)sprintf(meta + q, ",\"key%02d\":\"value %d\"", i, i);
            q += (size_t)sprintf(meta + q, ",\"act\":\"softplus\"}");
            metap = meta;
        }
        ts_torch_file(&b, t, n, key_order, data_order, metap, variant != 1);
        st = ncsn_model_load_mem(&m, b.p, b.len);
        CHECK(st == NCSN_OK && m, "%s: %s", what, ncsn_last_error());
        if (m) {
            const ncsn_config *c = &m->cfg;
            int ok = c->dim == dim && c->n_hidden == depth && c->cond == (E ? NCSN_COND_EMBED : NCSN_COND_CONCAT) &&
                     (!E || c->embed_dim == E) && c->scale_by_sigma == 0 &&
                     c->act == (variant == 2 ? NCSN_ACT_SOFTPLUS : NCSN_ACT_SILU);
            int bad = 0, k;
            for (l = 0; l < depth; l++) if (c->hidden[l] != hid[l]) ok = 0;
            CHECK(ok, "%s: inferred config dim %d n_hidden %d cond %d E %d act %d", what, c->dim, c->n_hidden, (int)c->cond, c->embed_dim, (int)c->act);
            if (ok) {
                ts_expect ex[2 * NCSN_MAX_HIDDEN + 8];
                int n_ex = ts_expected(m, ex);
                CHECK(n_ex == n, "%s: %d tensors expected, %d written", what, n_ex, n);
                for (k = 0; k < n_ex && k < n; k++) {
                    int r, cc, cols = ex[k].cols ? ex[k].cols : 1;
                    for (i = 0; i < n && strcmp(t[i].name, ex[k].name) != 0; i++) {}
                    if (i == n) { bad++; continue; }
                    for (r = 0; r < ex[k].rows; r++)
                        for (cc = 0; cc < cols; cc++)
                            if (t_f2u(ts_param(m, &ex[k], r, cc)) != t_f2u(t[i].v[(size_t)r * cols + cc])) bad++;
                }
                CHECK(bad == 0, "%s: %d values not where torch's [out][in] puts them", what, bad);
            }
        }
        ncsn_model_free(m);
        free(b.p);
    }
}

/* ---- truncation at every length, byte flips ---- */
static void ts_fuzz(void)
{
    char path[512];
    ncsn_config cfg = ncsn_config_embed(2, 4, 3, 2);
    ncsn_model *m = NULL, *r = NULL;
    ncsn_rng rng;
    unsigned char *buf = NULL, *cp;
    size_t len = 0, L, pos, hl = 0;
    int fails_trunc = -1, crash_like = 0, bad_ok = 0, bad_alloc = 0, n_ok = 0, n_loads = 0, bad_flip_data = 0, i;
    static const unsigned char masks[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff, 0x0f, 0x30 };
    int n_masks = t_quick ? 3 : (int)sizeof masks;
    uint64_t xs = 0x1234567887654321ULL;
    cfg.hidden[1] = 5;
    cfg.act = NCSN_ACT_SOFTPLUS;
    cfg.scale_by_sigma = 1;
    cfg.zero_init_output = 0;
    if (!ts_tmpname(path, sizeof path) || ncsn_model_create(&m, &cfg) != NCSN_OK) { CHECK(0, "fuzz: setup: %s", ncsn_last_error()); return; }
    ncsn_rng_seed(&rng, 5, 5);
    ncsn_model_init(m, &rng);
    ncsn_model_save(m, path);
    buf = t_read_file(path, &len);
    remove(path);
    if (!buf || len < 8) { CHECK(0, "fuzz: cannot read the saved file"); goto out; }
    for (i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    CHECK(ncsn_model_load_mem(&r, buf, len) == NCSN_OK, "fuzz: the untouched file: %s", ncsn_last_error());
    ncsn_model_free(r);
    r = NULL;
    /* every truncation fails (the data region is then always short) */
    for (L = 0; L < len; L++) {
        ncsn_status st;
        cp = (unsigned char *)malloc(L ? L : 1);
        if (!cp) break;
        memcpy(cp, buf, L);
        ts_alloc_max = 0;
        st = ncsn_model_load_mem(&r, cp, L);
        n_loads++;
        if (ts_alloc_max > sizeof(ncsn__st_file) + 2 * L + 4096) bad_alloc++;
        if (st == NCSN_OK) { if (fails_trunc < 0) fails_trunc = (int)L; ncsn_model_free(r); r = NULL; }
        else if (st != NCSN_ERR_FORMAT || !ncsn_last_error()[0] || r) crash_like++;
        free(cp);
    }
    CHECK(fails_trunc < 0, "fuzz: file truncated to %d of %lu bytes loaded", fails_trunc, (unsigned long)len);
    /* byte flips: header bytes with every mask, data bytes with some; random bytes too */
    for (pos = 0; pos < len; pos++) {
        int mi, in_data = pos >= 8 + hl;
        for (mi = 0; mi < n_masks + 1; mi++) {
            ncsn_status st;
            unsigned char mask;
            if (in_data && mi >= 3 && mi < n_masks) continue;
            if (mi < n_masks) mask = masks[mi];
            else { xs ^= xs << 13; xs ^= xs >> 7; xs ^= xs << 17; mask = (unsigned char)(xs | 1u); }
            cp = (unsigned char *)malloc(len);
            if (!cp) break;
            memcpy(cp, buf, len);
            cp[pos] ^= mask;
            ts_alloc_max = 0;
            st = ncsn_model_load_mem(&r, cp, len);
            n_loads++;
            if (ts_alloc_max > sizeof(ncsn__st_file) + 2 * len + 4096) bad_alloc++;
            if (st == NCSN_OK) {
                n_ok++;
                if (!ts_valid_model(r)) bad_ok++;
                else if (pos < 8 + hl) {   /* a header change that still loads cannot move the data */
                    if (r->n_params != m->n_params || memcmp(r->params, m->params, m->n_params * sizeof(float)) != 0) bad_ok++;
                } else {                   /* a data change moves exactly one value */
                    size_t k, diff = 0;
                    for (k = 0; k < m->n_params; k++) diff += t_f2u(r->params[k]) != t_f2u(m->params[k]);
                    if (diff != 1) bad_flip_data++;
                }
                ncsn_model_free(r);
                r = NULL;
            } else if (st != NCSN_ERR_FORMAT || !ncsn_last_error()[0] || r) crash_like++;
            free(cp);
        }
    }
    CHECK(crash_like == 0, "fuzz: %d loads failed without NCSN_ERR_FORMAT and a message, or left a model", crash_like);
    CHECK(bad_ok == 0, "fuzz: %d damaged files loaded as invalid models", bad_ok);
    CHECK(bad_flip_data == 0, "fuzz: %d single-byte data changes did not change exactly one parameter", bad_flip_data);
    CHECK(bad_alloc == 0, "fuzz: %d loads allocated more than the input size", bad_alloc);
    CHECK(n_ok > 0 && n_ok < n_loads, "fuzz: %d of %d damaged files loaded (some data flips must)", n_ok, n_loads);
    printf("  safetensors: fuzz: %d damaged inputs of a %lu-byte file, %d loaded as valid models\n", n_loads, (unsigned long)len, n_ok);
out:
    free(buf);
    ncsn_model_free(m);
}

void test_safetensors(void)
{
    ncsn_config c;
    int l;
    c = ncsn_config_concat(2, 7, 3);
    c.hidden[1] = 5; c.hidden[2] = 9;
    c.act = NCSN_ACT_SOFTPLUS;
    c.scale_by_sigma = 1;
    ts_round_trip(&c, 1, "round trip concat/softplus/sigma");
    c = ncsn_config_embed(3, 6, 8, 2);
    c.hidden[1] = 4;
    ts_round_trip(&c, 2, "round trip embed/silu");
    c = ncsn_config_embed(1, 16, 5, 6);   /* net.10, net.12 */
    for (l = 0; l < 6; l++) c.hidden[l] = 3 + l;
    c.scale_by_sigma = 1;
    ts_round_trip(&c, 3, "round trip embed depth 6");
    c = ncsn_config_concat(2, 128, 3);    /* seed 000's ScoreNet */
    ts_round_trip(&c, 4, "round trip seed 000 ScoreNet");
    c = ncsn_config_concat(3, 9, 2);
    c.sigma_input = NCSN_SIGMA_LOG;
    ts_round_trip(&c, 5, "round trip concat of ln sigma");
    c = ncsn_config_embed(2, 8, 7, 3);
    c.sigma_input = NCSN_SIGMA_LOG;
    c.scale_by_sigma = 1;
    ts_round_trip(&c, 6, "round trip embedding of ln sigma");
    ts_sigma_input();
    { /* i/o errors */
        ncsn_model *m = NULL, *m2 = (ncsn_model *)&c;
        c = ncsn_config_concat(1, 2, 1);
        ncsn_model_create(&m, &c);
        CHECK(ncsn_model_save(m, "/nonexistent-dir-ncsn/x.safetensors") == NCSN_ERR_IO && ncsn_last_error()[0], "save into a missing directory");
        CHECK(ncsn_model_load(&m2, "/nonexistent-dir-ncsn/x.safetensors") == NCSN_ERR_IO && m2 == NULL, "load of a missing file");
        CHECK(ncsn_model_save(m, NULL) == NCSN_ERR_ARG && ncsn_last_error()[0], "save to a NULL path");
        CHECK(ncsn_model_load(&m2, NULL) == NCSN_ERR_ARG && m2 == NULL, "load from a NULL path");
        {
            int r = t_in_child(ts_save_null_model);
            CHECK(r == (int)NCSN_ERR_ARG || r == -2, "ncsn_model_save(NULL, path) %s (returned %d)",
                  r == -1 ? "crashed" : "did not return NCSN_ERR_ARG", r);
        }
        ncsn_model_free(m);
    }
    ts_create_excl();
    ts_hostile();
    ts_torch_style();
    ts_fuzz();
}
