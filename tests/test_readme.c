/* test_readme.c - the README says what is true:
   - its usage example is examples/minimal.c, byte for byte (make test also compiles and runs it),
     and that example checks the status of every call that returns one;
   - it stays a page a newcomer reads in five minutes (at most README_MAX_LINES lines);
   - every ncsn_* name it cites is declared in ncsn.h's public part (a rename cannot leave it behind);
   - every `make TARGET` it names is a target of the Makefile, and every `ncsn COMMAND` line of its
     code blocks is a command the built ncsn accepts (COMMAND --help exits 0);
   - every relative link in it, in the pages of docs/ and in the folders' READMEs leads to a file
     inside the repository, and none of them names a path on a build machine or an issue number;
   - both of its commands run tests/deps.sh first (what installs their packages on a fresh machine);
   - every public function of ncsn.h is defined in the section its declaration is in;
   - no file of the repository names a path on a build machine, and no function of the library or
     of the programs beside it (tools/, examples/, exercises/, plots/, images/, quality/, bench/)
     is longer than FUNCTION_MAX_LINES. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L   /* popen, readlink, opendir */
#define _FILE_OFFSET_BITS 64      /* readdir on 32-bit builds: 64-bit inode numbers (EOVERFLOW, qemu-arm) */
#endif
#include "test.h"
#include <stdlib.h>
#include <ctype.h>
#if !defined(_WIN32)
#include <dirent.h>
#include <unistd.h>
#endif

#define README_MAX_LINES 200
#define FUNCTION_MAX_LINES 80   /* from the signature's first line to the closing brace */

/* the file as a string (t_read_file leaves one spare byte for the NUL), or NULL */
static char *readme_text(const char *path)
{
    size_t n;
    char *s = (char *)t_read_file(path, &n);
    if (s) s[n] = 0;
    return s;
}

static int is_ident(int c) { return isalnum((unsigned char)c) || c == '_'; }

/* the output of a shell command (at most cap - 1 bytes, the rest drained) and its exit status */
static int readme_run(const char *cmd, char *out, size_t cap)
{
#if !defined(_WIN32)
    char drain[256];
    size_t n = 0, got;
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    while (n < cap - 1 && (got = fread(out + n, 1, cap - 1 - n, p)) > 0) n += got;
    out[n] = 0;
    while (fread(drain, 1, sizeof drain, p) > 0) {}   /* the command must not die of SIGPIPE */
    return pclose(p);
#else
    (void)cmd; out[0] = 0; (void)cap;
    return -1;
#endif
}

/* every ncsn_* identifier in the README (not a file name such as tools/ncsn_cli.c) must stand as a
   whole word in the header's declarations (the part before the implementation) */
static void readme_names(const char *readme, const char *header)
{
    const char *impl = strstr(header, "#ifdef NCSN_IMPLEMENTATION"), *p = readme;
    size_t decl_len = impl ? (size_t)(impl - header) : strlen(header);
    int names = 0, missing = 0;
    while ((p = strstr(p, "ncsn_")) != NULL) {
        char name[64];
        size_t k = 0;
        const char *q = header;
        int found = 0;
        if (p > readme && (is_ident(p[-1]) || p[-1] == '/')) { p++; continue; }
        while (is_ident(p[k]) && k < sizeof name - 1) { name[k] = p[k]; k++; }
        name[k] = 0;
        p += k;
        while ((q = strstr(q, name)) != NULL && (size_t)(q - header) < decl_len) {
            if ((q == header || !is_ident(q[-1])) && !is_ident(q[k])) { found = 1; break; }
            q += k;
        }
        names++;
        if (!found) missing++;
        CHECK(found, "README cites %s, which ncsn.h does not declare", name);
    }
    CHECK(names >= 40 && missing == 0, "README's API map names %d functions and types (want >= 40), %d unknown", names, missing);
}

/* `make TARGET` in the README's text or code: each TARGET must be one the Makefile knows */
static void readme_make_targets(const char *readme)
{
#if !defined(_WIN32)
    const char *p = readme;
    char out[4096], cmd[160], seen[2048] = " ";
    int n = 0;
    if (system("make --version > /dev/null 2>&1") != 0) { printf("  readme: no make on PATH: targets not checked (SKIP)\n"); return; }
    while ((p = strstr(p, "make")) != NULL) {
        char target[48], key[64];
        size_t k = 0;
        int prefixed = p > readme && (p[-1] == '`' || p[-1] == '\n');
        p += 4;
        if (!prefixed || (*p != ' ' && *p != '\n')) continue;
        while (*p == ' ' || *p == '\n') p++;
        while ((islower((unsigned char)p[k]) || p[k] == '-') && k < sizeof target - 1) { target[k] = p[k]; k++; }
        target[k] = 0;
        if (k == 0) continue;
        snprintf(key, sizeof key, " %s ", target);
        if (strstr(seen, key) || strlen(seen) + strlen(key) >= sizeof seen) continue;
        strcat(seen, target);
        strcat(seen, " ");
        n++;
        /* make's messages in English; -W ncsn.h: as if the header had changed, so a target that is
           a built file (make shared) is not "up to date" just because an earlier run built it */
        snprintf(cmd, sizeof cmd, "LC_ALL=C make -n -W ncsn.h --no-print-directory %s 2>&1", target);
        /* "Nothing to be done for 'docs'": a file or folder of that name, not a target (a
           sub-make's "nothing to do" for its own prerequisites is fine) */
        snprintf(key, sizeof key, "for '%s'", target);
        CHECK(readme_run(cmd, out, sizeof out) == 0 && !strstr(out, "No rule to make target") && !strstr(out, key),
              "README names `make %s`, which the Makefile does not build: %.200s", target, out);
    }
    CHECK(n >= 4, "README names %d make targets (want at least test, plots and two more)", n);
#endif
}

/* the ncsn command next to run_tests (or $NCSN_CLI), as the cli group finds it */
static int readme_cli_path(char *path, size_t cap)
{
#if !defined(_WIN32)
    const char *env = getenv("NCSN_CLI");
    char *slash;
    ssize_t n;
    if (env && *env) return snprintf(path, cap, "%s", env) < (int)cap;
    n = readlink("/proc/self/exe", path, cap - 8);
    if (n <= 0) return 0;
    path[n] = 0;
    slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "ncsn");
    return 1;
#else
    (void)path; (void)cap;
    return 0;
#endif
}

/* each line "ncsn COMMAND ..." of a code block: `ncsn COMMAND --help` must succeed */
static void readme_cli_commands(const char *readme)
{
    char bin[1024], cmd[1200], out[2048];
    const char *p = readme;
    int n = 0;
    if (!readme_cli_path(bin, sizeof bin)) { printf("  readme: ncsn not found: commands not checked (SKIP)\n"); return; }
    if (!t_runs_on_host(bin)) { printf("  readme: %s is built for another machine than /bin/sh, or this kernel cannot start it: commands not checked (SKIP)\n", bin); return; }
    while ((p = strstr(p, "\nncsn ")) != NULL) {
        char word[32];
        size_t k = 0;
        p += 6;
        while (islower((unsigned char)p[k]) && k < sizeof word - 1) { word[k] = p[k]; k++; }
        word[k] = 0;
        if (k == 0) continue;
        n++;
        snprintf(cmd, sizeof cmd, "'%s' %s --help 2>&1", bin, word);
        CHECK(readme_run(cmd, out, sizeof out) == 0, "README shows `ncsn %s`, which `%s` refuses: %.200s", word, cmd, out);
    }
    CHECK(n >= 3, "README shows %d ncsn command lines (want the three of its CLI section)", n);
}

/* no path of a build machine in text (each forbidden path in two halves, joined at run time, so
   this file names none of them) */
static void no_machine_path(const char *path, const char *text)
{
    static const char *const machine_path[][2] = { { "/wo", "rk/" }, { "/ho", "me/" }, { "../sha", "red" } };
    char whole[32];
    size_t i;
    for (i = 0; i < sizeof machine_path / sizeof *machine_path; i++) {
        snprintf(whole, sizeof whole, "%s%s", machine_path[i][0], machine_path[i][1]);
        CHECK(!strstr(text, whole), "%s names '%s', a path outside the repository", path, whole);
    }
}

#if !defined(_WIN32)

/* The functions of text (the project's style: the body opens with "{" alone at column 0, or "{ \"
   inside a kernel macro, and closes with "}" at column 0; the signature is the column-0 line before it, with its indented
   continuations): each at most FUNCTION_MAX_LINES long. Returns the longest. */
static int function_lengths(const char *path, const char *text)
{
    static const char *line[1 << 15];   /* static: 256 KiB is too much for some stacks */
    int n = 0, i, longest = 0;
    const char *p;
    for (p = text; *p && n < (int)(sizeof line / sizeof *line); p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        line[n++] = p;
    CHECK(*p == 0, "%s: more than %d lines", path, n);
    for (i = 1; i < n; i++) {
        int start = i - 1, end = i + 1, len;
        /* "{" alone, or "{ \" in a macro that defines one function per instruction set */
        if (!(line[i][0] == '{' && (line[i][1] == '\n' || line[i][1] == 0 || !strncmp(line[i] + 1, " \\\n", 3)))) continue;
        while (start > 0 && line[start][0] == ' ') start--;
        while (end < n && line[end][0] != '}') end++;
        len = end - start + 1;
        if (len > longest) longest = len;
        CHECK(len <= FUNCTION_MAX_LINES, "%s:%d: a function of %d lines (at most %d: split it)", path, start + 1, len,
              FUNCTION_MAX_LINES);
        i = end;
    }
    return longest;
}

/* every file below dir (not build output, golden data or git's): no machine path; the C files of
   the folders the rule covers (not tests/, whose table-driven checks run long): function lengths.
   *files: the text files read, *longest: the longest function met. */
static void tree_checks(const char *dir, int *files, int *longest)
{
    static const char *const skip[] = { "./.git", "./build", "./golden", "./plots/out" };
    static const char *const c_dirs[] = { ".", "./tools", "./examples", "./exercises", "./plots", "./images", "./quality", "./bench" };
    DIR *d = opendir(dir), *sub;
    struct dirent *e;
    size_t i, n;
    int c_dir = 0;
    for (i = 0; i < sizeof c_dirs / sizeof *c_dirs; i++) c_dir |= strcmp(dir, c_dirs[i]) == 0;
    CHECK(d != NULL, "%s can be listed", dir);
    while (d && (e = readdir(d)) != NULL) {
        char path[1024];
        size_t len = strlen(e->d_name);
        int skipped = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        char *text;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        for (i = 0; i < sizeof skip / sizeof *skip; i++) skipped |= strcmp(path, skip[i]) == 0;
        if (skipped) continue;
        if ((sub = opendir(path)) != NULL) {
            closedir(sub);
            tree_checks(path, files, longest);
            continue;
        }
        if (!(text = (char *)t_read_file(path, &n))) continue;
        text[n] = 0;
        if (strlen(text) == n) {   /* a text file: binary ones (the figures) hold a NUL */
            (*files)++;
            no_machine_path(path, text);
            if (c_dir && len > 2 && (strcmp(e->d_name + len - 2, ".c") == 0 || strcmp(e->d_name + len - 2, ".h") == 0)) {
                int l = function_lengths(path, text);
                if (l > *longest) *longest = l;
            }
        }
        free(text);
    }
    if (d) closedir(d);
}
#endif

/* every relative markdown link of the file at path (dir: its folder, "" for the root) must lead to
   an existing file without leaving the repository (its machine paths: the tree walk's check, which
   reads every text file; where there is no walk, here) */
static void readme_links(const char *path, const char *dir)
{
    char *text = readme_text(path);
    const char *p;
    CHECK(text != NULL, "%s is readable", path);
    if (!text) return;
#if defined(_WIN32)
    no_machine_path(path, text);
#endif
    for (p = text; (p = strstr(p, "ssue ")) != NULL; p++)   /* a reader cannot resolve "issue 12" */
        CHECK(!(p > text && (p[-1] == 'i' || p[-1] == 'I') && isdigit((unsigned char)p[5])),
              "%s cites an issue number (%.8s): say what the thing is for instead", path, p - 1);
    for (p = text; (p = strstr(p, "](")) != NULL;) {
        char target[512], full[1100];
        size_t k = 0;
        int depth = 0;
        const char *s;
        FILE *fp;
        p += 2;
        while (p[k] && p[k] != ')' && p[k] != '#' && p[k] != ' ' && k < sizeof target - 1) { target[k] = p[k]; k++; }
        target[k] = 0;
        if (k == 0 || strstr(target, "://")) continue;
        snprintf(full, sizeof full, "%s%s", dir, target);
        for (s = full; *s; ) {   /* count folders down and up: going above the root leaves the repository */
            if (strncmp(s, "../", 3) == 0) { depth--; s += 3; }
            else if (strncmp(s, "./", 2) == 0) s += 2;
            else { const char *slash = strchr(s, '/'); if (!slash) break; depth++; s = slash + 1; }
            CHECK(depth >= 0, "%s links to %s, outside the repository", path, target);
            if (depth < 0) break;
        }
        fp = fopen(full, "rb");
        CHECK(fp != NULL, "%s links to %s, which does not exist", path, target);
        if (fp) fclose(fp);
    }
    free(text);
}

static void readme_doc_links(void)
{
    static const char *const folder[] = { "examples/", "exercises/", "plots/", "tools/", "images/", "quality/", "bench/", "python/" };   /* each has an index */
    char path[600];
    int n = 0;
    size_t i;
    readme_links("README.md", "");
    for (i = 0; i < sizeof folder / sizeof *folder; i++) {
        snprintf(path, sizeof path, "%sREADME.md", folder[i]);
        readme_links(path, folder[i]);
    }
#if !defined(_WIN32)
    {
        DIR *d = opendir("docs");
        struct dirent *e;
        CHECK(d != NULL, "docs/ exists");
        while (d && (e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 4 || strcmp(e->d_name + len - 3, ".md") != 0) continue;
            snprintf(path, sizeof path, "docs/%.500s", e->d_name);
            readme_links(path, "docs/");
            n++;
        }
        if (d) closedir(d);
    }
    CHECK(n >= 10, "docs/ holds %d pages (want the ten the README links, at least)", n);
#endif
}

/* the section number of the "---- N." heading at or above p (0: none) */
static int section_at(const char *text, const char *p)
{
    const char *h, *best = NULL;
    for (h = text; (h = strstr(h, "\n/* ---- ")) != NULL && h < p; h++)
        if (isdigit((unsigned char)h[9])) best = h;
    return best ? atoi(best + 9) : 0;
}

/* the name before the first '(' of the line at bol (to end of line), into name; 0 if none */
static int function_name(const char *bol, char *name, size_t cap)
{
    const char *eol = strchr(bol, '\n'), *par = strchr(bol, '('), *s;
    size_t k;
    if (!par || (eol && par > eol)) return 0;
    for (s = par; s > bol && is_ident(s[-1]); s--) {}
    k = (size_t)(par - s);
    if (k == 0 || k >= cap) return 0;
    memcpy(name, s, k);
    name[k] = 0;
    return 1;
}

/* "a reader can go from the contents list to any function's definition": every public function
   (a line "NCSNDEF ... NAME(") is defined in the section whose number its declaration has */
static void readme_sections(const char *header)
{
    const char *impl = strstr(header, "\n#ifdef NCSN_IMPLEMENTATION"), *d, *u;
    char name[64], other[64];
    int n = 0;
    CHECK(impl != NULL, "ncsn.h has its implementation part");
    if (!impl) return;
    for (d = header; (d = strstr(d, "\nNCSNDEF ")) != NULL && d < impl; d++) {
        if (!function_name(d + 1, name, sizeof name)) continue;
        for (u = impl; (u = strstr(u, "\nNCSNDEF ")) != NULL; u++)
            if (function_name(u + 1, other, sizeof other) && strcmp(name, other) == 0) break;
        CHECK(u != NULL, "ncsn.h declares %s but defines it nowhere", name);
        if (u) {
            int want = section_at(header, d), got = section_at(header, u);
            CHECK(want == got, "ncsn.h: %s is declared in section %d and defined in section %d (the contents list leads a reader to %d)",
                  name, want, got, want);
            n++;
        }
    }
    CHECK(n >= 100, "ncsn.h: only %d public functions found (the scan is broken?)", n);
}

/* The example teaches by example: every call in minimal.c of a function that returns an ncsn_status
   (the declarations "NCSNDEF ncsn_status NAME(" in ncsn.h) must have its result kept, "= NAME(",
   or tested, "(NAME(" (the unchecked ncsn_model_init and ncsn_adam_step of an earlier version
   failed). */
static void readme_statuses_checked(const char *ex, const char *header)
{
    const char *impl = strstr(header, "#ifdef NCSN_IMPLEMENTATION"), *d, *u;
    char name[64];
    int n_calls = 0, n_unchecked = 0;
    for (d = header; (d = strstr(d, "NCSNDEF ncsn_status ")) != NULL && (!impl || d < impl); d++) {
        size_t k = 0;
        const char *p = d + strlen("NCSNDEF ncsn_status ");
        while (k + 1 < sizeof name && is_ident(p[k])) { name[k] = p[k]; k++; }
        name[k] = 0;
        if (p[k] != '(' || k == 0) continue;
        for (u = ex; (u = strstr(u, name)) != NULL; u += k) {
            const char *b = u;
            if (u[k] != '(' || (u > ex && is_ident(u[-1]))) continue;
            while (b > ex && b[-1] == ' ') b--;
            n_calls++;
            if (b == ex || (b[-1] != '=' && b[-1] != '(')) {
                n_unchecked++;
                CHECK(0, "examples/minimal.c calls %s without checking its status", name);
            }
        }
    }
    CHECK(n_calls >= 8, "examples/minimal.c: only %d status-returning calls found (the scan is broken?)", n_calls);
    printf("  readme: examples/minimal.c checks the status of %d of its %d calls that return one\n", n_calls - n_unchecked, n_calls);
}

/* `make -n TARGET` (what make would run, nothing run) must start with `sh tests/deps.sh WHAT`:
   a rule that silently does nothing (deps-% listed in .PHONY: make never applies a pattern rule
   to a phony target) left a fresh machine without libpcg-cpp-dev */
static void readme_deps_rules(void)
{
#if !defined(_WIN32)
    static const char *const target[] = { "deps-test", "deps-plots", "test", "plots" }, *const want[] = { "test", "plots", "test", "plots" };
    char cmd[256], out[8192], needle[64];
    int i;
    if (system("make --version > /dev/null 2>&1") != 0) { printf("  readme: no make on PATH: deps rules not checked (SKIP)\n"); return; }
    for (i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "make -n --no-print-directory %s 2>&1", target[i]);
        readme_run(cmd, out, sizeof out);
        snprintf(needle, sizeof needle, "tests/deps.sh %s", want[i]);
        CHECK(strstr(out, needle) != NULL, "`make -n %s` does not run '%s' (it printed: %.200s)", target[i], needle, out);
        if (i >= 2 && strstr(out, needle))   /* before anything is compiled */
            CHECK(!strstr(out, " -c ") || strstr(out, needle) < strstr(out, " -c "), "`make %s` compiles before '%s'", target[i], needle);
    }
    /* the four Fashion-MNIST files made in parallel check the packages once: one check per file
       ran four apt-gets at once and make plots failed on apt's lock */
    {
        const char *p;
        int n = 0;
        readme_run("make -n -j4 --no-print-directory IMAGES_DATA=build/readme-no-such-dir build/readme-no-such-dir/train-images-idx3-ubyte "
                   "build/readme-no-such-dir/train-labels-idx1-ubyte build/readme-no-such-dir/t10k-images-idx3-ubyte "
                   "build/readme-no-such-dir/t10k-labels-idx1-ubyte 2>&1", out, sizeof out);
        for (p = out; (p = strstr(p, "tests/deps.sh")) != NULL; p++) n++;
        CHECK(n == 1, "making the 4 Fashion-MNIST files runs tests/deps.sh %d times (want 1: parallel apt-gets fight over its lock)", n);
        CHECK(strstr(out, "gzip -dc") != NULL, "`make -n` of the Fashion-MNIST files runs no gzip (it printed: %.200s)", out);
    }
#endif
}

/* the field names of `typedef struct NAME {` in the header, in order, space-separated (comments
   removed; "int n, dim;" gives two names, arrays and pointers their name) */
static void struct_fields(const char *header, const char *name, char *out, size_t cap)
{
    char key[96], *text, *w, *d;
    const char *p, *e;
    size_t o = 0;
    out[0] = 0;
    snprintf(key, sizeof key, "typedef struct %s {", name);
    if (!(p = strstr(header, key)) || !(e = strstr(p, "} ")) || !(text = (char *)malloc((size_t)(e - p) + 1))) return;
    p += strlen(key);
    for (w = text; p < e; ) {   /* copy without comments */
        if (p[0] == '/' && p[1] == '*') { const char *c = strstr(p + 2, "*/"); p = c && c < e ? c + 2 : e; }
        else *w++ = *p++;
    }
    *w = 0;
    for (d = strtok(text, ";"); d; d = strtok(NULL, ";")) {
        char *piece = d, *comma;
        do {
            char *q, *id;
            comma = strchr(piece, ',');
            if (comma) *comma = 0;
            if ((q = strchr(piece, '[')) != NULL) *q = 0;
            for (q = piece + strlen(piece); q > piece && !is_ident(q[-1]); q--) {}
            for (id = q; id > piece && is_ident(id[-1]); id--) {}
            if (q > id && o + (size_t)(q - id) + 2 < cap) { o += (size_t)snprintf(out + o, cap - o, "%s%.*s", o ? " " : "", (int)(q - id), id); }
            piece = comma ? comma + 1 : NULL;
        } while (piece);
    }
    free(text);
}

/* python/ncsn_ctypes.py mirrors some of the header's structs field by field (ctypes has no other
   way): a field added to the header and not there shifts every later field (it did, once: the
   trainer's thread count read as 1088467456) */
static void readme_ctypes_mirror(const char *header)
{
    char *py = readme_text("python/ncsn_ctypes.py"), want[1024], got[1024];
    const char *p;
    int n = 0;
    CHECK(py != NULL, "python/ncsn_ctypes.py must exist");
    if (!py) return;
    for (p = py; (p = strstr(p, "(C.Structure):")) != NULL; p++) {
        const char *hash = strchr(p, '#'), *f = strstr(p, "_fields_ = ["), *end = f ? strstr(f, "]\n") : NULL, *q;
        char cname[64];
        size_t o = 0;
        if (!hash || !f || !end || sscanf(hash, "# %63[a-z_]", cname) != 1) continue;
        got[0] = 0;
        for (q = f; (q = strstr(q, "(\"")) != NULL && q < end; q += 2) {
            const char *qe = strchr(q + 2, '"');
            if (qe && o + (size_t)(qe - q) + 2 < sizeof got) o += (size_t)snprintf(got + o, sizeof got - o, "%s%.*s", o ? " " : "", (int)(qe - q - 2), q + 2);
        }
        struct_fields(header, cname, want, sizeof want);
        CHECK(want[0] && strcmp(want, got) == 0, "python/ncsn_ctypes.py's %s: fields '%s', the header's '%s'", cname, got, want);
        n++;
    }
    CHECK(n >= 7, "python/ncsn_ctypes.py: %d structs checked against the header", n);
    free(py);
}

void test_readme(void)
{
    char *readme = readme_text("README.md"), *ex = readme_text("examples/minimal.c"), *header = readme_text("ncsn.h");
    const char *start, *end, *p;
    int lines = 0;
    CHECK(readme && ex && header, "README.md, examples/minimal.c and ncsn.h must exist (run from the repository root)");
    if (!readme || !ex || !header) { free(readme); free(ex); free(header); return; }
    start = strstr(readme, "```c\n/* minimal.c");
    CHECK(start != NULL, "README has the minimal.c code block");
    if (start) {
        start += 5;
        end = strstr(start, "```");
        CHECK(end && (size_t)(end - start) == strlen(ex) && memcmp(start, ex, strlen(ex)) == 0,
              "README's code block differs from examples/minimal.c");
    }
    for (p = readme; (p = strchr(p, '\n')) != NULL; p++) lines++;
    CHECK(lines <= README_MAX_LINES, "README has %d lines (at most %d: the rest belongs in docs/)", lines, README_MAX_LINES);
    CHECK(strstr(readme, "make test") && strstr(readme, "make plots"), "README names make test and make plots");
    readme_names(readme, header);
    readme_make_targets(readme);
    readme_cli_commands(readme);
    readme_doc_links();
    readme_statuses_checked(ex, header);
    readme_ctypes_mirror(header);
    readme_sections(header);
#if !defined(_WIN32)
    {
        int files = 0, longest = 0;
        tree_checks(".", &files, &longest);
        CHECK(files >= 100 && longest > 20, "the tree walk read %d text files, longest function %d lines (the walk is broken?)", files, longest);
        printf("  readme: %d text files name no machine path; the longest function beside tests/ has %d lines (at most %d)\n",
               files, longest, FUNCTION_MAX_LINES);
    }
#endif
    free(readme);
    free(ex);
    free(header);
    readme_deps_rules();
}
