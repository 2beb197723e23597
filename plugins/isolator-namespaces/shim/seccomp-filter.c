#include "seccomp-filter.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The highest syscall number looked at for "seccomp-others" (x86_64 has ~460). */
#define SECCOMP_MAX_NR 1024

static int parse_action(const char *kind, const char *err, struct seccomp_action *out) {
  char *end;
  long n = strtol(err, &end, 10);
  if (*err == '\0' || *end || n < 0 || n > 4095) return -1;
  static const struct { const char *name; int kind; } kinds[] = {
    {"allow", SECCOMP_KIND_ALLOW}, {"errno", SECCOMP_KIND_ERRNO}, {"kill-process", SECCOMP_KIND_KILL_PROCESS},
    {"kill-thread", SECCOMP_KIND_KILL_THREAD}, {"trap", SECCOMP_KIND_TRAP}, {"log", SECCOMP_KIND_LOG},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (strcmp(kind, kinds[i].name) == 0) {
      *out = (struct seccomp_action){.kind = kinds[i].kind, .errno_ret = (int)n};
      return 0;
    }
  }
  return -1;
}

/* Splits "a b c" in place into at most n fields; returns how many. */
static int fields_of(char *value, char **out, int n) {
  int count = 0;
  char *save = NULL;
  for (char *f = strtok_r(value, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
    if (count == n) return n + 1;
    out[count++] = f;
  }
  return count;
}

int seccomp_parse_default(struct seccomp_spec *s, char *value) {
  char *f[3];
  if (fields_of(value, f, 2) != 2 || parse_action(f[0], f[1], &s->fallback) < 0) return -1;
  s->enabled = 1;
  return 0;
}

int seccomp_parse_others(struct seccomp_spec *s, char *value) {
  char *f[3];
  if (fields_of(value, f, 2) != 2 || parse_action(f[0], f[1], &s->others) < 0) return -1;
  s->has_others = 1;
  return 0;
}

static int parse_u64(const char *v, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *v == '\0' || *v == '-' || *end) return -1;
  *out = n;
  return 0;
}

static int parse_arg(char *text, struct seccomp_arg *a) {
  char *f[4];
  int n = 0;
  char *save = NULL;
  for (char *p = strtok_r(text, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    if (n == 4) return -1;
    f[n++] = p;
  }
  if (n != 4) return -1;
  uint64_t index;
  if (parse_u64(f[0], &index) < 0 || index >= SECCOMP_MAX_ARGS) return -1;
  static const char *ops[] = {"ne", "lt", "le", "eq", "ge", "gt", "masked_eq"};
  a->op = 0;
  for (int i = 0; i < 7; i++) if (strcmp(f[1], ops[i]) == 0) a->op = i + 1;
  if (a->op == 0 || parse_u64(f[2], &a->value) < 0 || parse_u64(f[3], &a->value_two) < 0) return -1;
  a->index = (unsigned)index;
  return 0;
}

int seccomp_parse_rule(struct seccomp_spec *s, char *value) {
  char *f[3 + SECCOMP_MAX_ARGS + 1];
  int n = fields_of(value, f, 3 + SECCOMP_MAX_ARGS);
  if (n < 3 || n > 3 + SECCOMP_MAX_ARGS) return -1;
  struct seccomp_rule r = {.name = f[2]};
  if (parse_action(f[0], f[1], &r.action) < 0) return -1;
  for (int i = 3; i < n; i++) if (parse_arg(f[i], &r.args[r.n_args++]) < 0) return -1;
  struct seccomp_rule *grown = realloc(s->rules, (s->n_rules + 1) * sizeof *grown);
  if (!grown) return -1;
  s->rules = grown;
  s->rules[s->n_rules++] = r;
  return 0;
}

int seccomp_parse_cache(struct seccomp_spec *s, char *value) {
  char *f[3];
  if (fields_of(value, f, 2) != 2 || f[0][0] != '/' || strspn(f[1], "0123456789abcdef") != strlen(f[1])) return -1;
  s->cache_dir = f[0];
  s->cache_key = f[1];
  return 0;
}

void seccomp_spec_free(struct seccomp_spec *s) {
  free(s->program.insns);
  s->program = (struct seccomp_program){0};
  free(s->rules);
  s->rules = NULL;
  s->n_rules = 0;
}

static uint32_t scmp_action(struct seccomp_action a) {
  switch (a.kind) {
    case SECCOMP_KIND_ALLOW: return SCMP_ACT_ALLOW;
    case SECCOMP_KIND_ERRNO: return SCMP_ACT_ERRNO((uint16_t)a.errno_ret);
    case SECCOMP_KIND_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case SECCOMP_KIND_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case SECCOMP_KIND_TRAP: return SCMP_ACT_TRAP;
    default: return SCMP_ACT_LOG;
  }
}

static enum scmp_compare scmp_op(int op) {
  switch (op) {
    case SECCOMP_OP_NE: return SCMP_CMP_NE;
    case SECCOMP_OP_LT: return SCMP_CMP_LT;
    case SECCOMP_OP_LE: return SCMP_CMP_LE;
    case SECCOMP_OP_EQ: return SCMP_CMP_EQ;
    case SECCOMP_OP_GE: return SCMP_CMP_GE;
    case SECCOMP_OP_GT: return SCMP_CMP_GT;
    default: return SCMP_CMP_MASKED_EQ;
  }
}

static void release_ctx(scmp_filter_ctx *ctx) {
  if (*ctx) seccomp_release(*ctx);
}

/* The filter of the spec's lines, as libseccomp builds it (a binary tree of syscall numbers). */
static scmp_filter_ctx build_filter(const struct seccomp_spec *s, struct shim_err *e) {
  __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(scmp_action(s->fallback));
  if (!ctx) {
    shim_fail(e, ENOMEM, "seccomp_init");
    return NULL;
  }
  /* A tree rather than a list: each syscall walks a few comparisons, not one per rule. */
  (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  unsigned char named[SECCOMP_MAX_NR] = {0};
  for (size_t i = 0; i < s->n_rules; i++) {
    const struct seccomp_rule *r = &s->rules[i];
    int nr = seccomp_syscall_resolve_name(r->name);
    if (nr == __NR_SCMP_ERROR) continue; /* not a syscall of this architecture: skipped, as Docker does */
    if (nr >= 0 && nr < SECCOMP_MAX_NR) named[nr] = 1;
    struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
    for (unsigned a = 0; a < r->n_args; a++) {
      cmp[a] = (struct scmp_arg_cmp){.arg = r->args[a].index, .op = scmp_op(r->args[a].op), .datum_a = r->args[a].value, .datum_b = r->args[a].value_two};
    }
    if (r->action.kind != 0 && scmp_action(r->action) == scmp_action(s->fallback)) continue; /* libseccomp refuses a rule equal to the default */
    int rc = seccomp_rule_add_array(ctx, scmp_action(r->action), nr, r->n_args, cmp);
    if (rc < 0) {
      shim_fail(e, -rc, "seccomp_rule_add %s", r->name);
      return NULL;
    }
  }
  if (s->has_others && scmp_action(s->others) != scmp_action(s->fallback)) {
    for (int nr = 0; nr < SECCOMP_MAX_NR; nr++) {
      if (named[nr]) continue;
      char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      if (!name) continue;
      free(name);
      int rc = seccomp_rule_add(ctx, scmp_action(s->others), nr, 0);
      if (rc < 0) {
        shim_fail(e, -rc, "seccomp_rule_add #%d", nr);
        return NULL;
      }
    }
  }
  scmp_filter_ctx built = ctx;
  ctx = NULL;
  return built;
}

/* Reads a whole program file (a multiple of 8 bytes: struct sock_filter). Returns 0, or -1 when absent or bad. */
static int read_program(int fd, struct seccomp_program *out) {
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
      st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return -1;
  void *buf = malloc((size_t)st.st_size);
  if (!buf) return -1;
  if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
    free(buf);
    return -1;
  }
  *out = (struct seccomp_program){.insns = buf, .len = (unsigned short)(st.st_size / sizeof(struct sock_filter))};
  return 0;
}

/* "<dir>/<key>-libseccomp-<version>.bpf": a libseccomp upgrade (another syscall table) builds again. */
static int cache_path(const struct seccomp_spec *s, char *path, size_t len) {
  const struct scmp_version *v = seccomp_version();
  int n = snprintf(path, len, "%s/%s-libseccomp-%u.%u.%u.bpf", s->cache_dir, s->cache_key, v->major, v->minor, v->micro);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Stores the program for the next start: a temporary file renamed into place, so readers see all of it or nothing. */
static void cache_store(const char *path, const struct seccomp_program *p) {
  char tmp[PATH_MAX + 32];
  if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof tmp) return;
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  size_t size = (size_t)p->len * sizeof(struct sock_filter);
  if (write(fd, p->insns, size) != (ssize_t)size || rename(tmp, path) < 0) unlink(tmp);
}

int seccomp_prepare(struct seccomp_spec *s, struct shim_err *e) {
  if (!s->enabled || s->program.insns) return 0;
  char path[PATH_MAX];
  int cached = s->cache_dir && cache_path(s, path, sizeof path) == 0;
  if (cached) {
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read_program(fd, &s->program) == 0) return 0;
  }
  __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = build_filter(s, e);
  if (!ctx) return -1;
  cleanup_close int mem = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (mem < 0) return shim_fail(e, errno, "memfd_create for the seccomp filter");
  int rc = seccomp_export_bpf(ctx, mem);
  if (rc < 0) return shim_fail(e, -rc, "seccomp_export_bpf");
  if (read_program(mem, &s->program) < 0) return shim_fail(e, EINVAL, "seccomp_export_bpf: no program");
  if (cached && (mkdir(s->cache_dir, 0700) == 0 || errno == EEXIST)) cache_store(path, &s->program);
  return 0;
}

int seccomp_apply(const struct seccomp_spec *s, struct shim_err *e) {
  if (!s->enabled) return 0;
  if (!s->program.insns) return shim_fail(e, EINVAL, "seccomp: the filter was not prepared");
  struct sock_fprog prog = {.len = s->program.len, .filter = s->program.insns};
  shim_mark("seccomp-load");
  /* As runc: no speculative-store-bypass mitigation forced on the container because it is filtered. */
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog);
  if (r < 0 && errno == EINVAL) r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog); /* a kernel before 4.17 */
  if (r < 0) return shim_fail(e, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
  shim_mark("seccomp-loaded");
  return 0;
}
