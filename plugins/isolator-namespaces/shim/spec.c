#include "spec.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int strv_push(struct strv *v, char *s) {
  char **items = realloc(v->items, (v->n + 2) * sizeof *items);
  if (!items) return -1;
  items[v->n++] = s;
  items[v->n] = NULL;
  v->items = items;
  return 0;
}

static void strv_free(struct strv *v) {
  free(v->items);
  v->items = NULL;
  v->n = 0;
}

/* Undoes the spec escaping (\\ \n \t) in place. Returns -1 on any other escape. */
static int unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r != '\\') {
      *w++ = *r;
      continue;
    }
    r++;
    if (*r == '\\') *w++ = '\\';
    else if (*r == 'n') *w++ = '\n';
    else if (*r == 't') *w++ = '\t';
    else if (*r == 's') *w++ = ' '; /* a space inside a mount or bind field */
    else return -1;
  }
  *w = '\0';
  return 0;
}

int spec_unescape(char *s) {
  return unescape(s);
}

static int read_file(const char *path, char **out, struct shim_err *e) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return shim_fail(e, errno, "open %s", path);
  struct stat st;
  if (fstat(fd, &st) < 0) return shim_fail(e, errno, "fstat %s", path);
  if (st.st_size > 16 * 1024 * 1024) return shim_fail(e, EFBIG, "read %s", path);
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) return shim_fail(e, ENOMEM, "read %s", path);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      free(buf);
      return shim_fail(e, err, "read %s", path);
    }
    got += (size_t)n;
  }
  buf[got] = '\0';
  *out = buf;
  return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (errno || end == v || *end || n > max || *v == '-') return -1;
  *out = n;
  return 0;
}

/* Splits `value` in place into exactly n space-separated fields, each unescaped and non-empty. */
static int split_fields(char *value, char **fields, int n) {
  for (int i = 0; i < n; i++) {
    fields[i] = value;
    char *sp = strchr(value, ' ');
    if (i < n - 1) {
      if (!sp) return -1;
      *sp = '\0';
      value = sp + 1;
    } else if (sp) {
      return -1;
    }
  }
  for (int i = 0; i < n; i++)
    if (unescape(fields[i]) < 0 || !*fields[i]) return -1;
  return 0;
}

static int parse_mount(struct spec *s, char *value) {
  char *fields[4];
  if (split_fields(value, fields, 4) < 0 || fields[2][0] != '/') return -1;
  struct mount_entry *m = realloc(s->mounts, (s->n_mounts + 1) * sizeof *m);
  if (!m) return -1;
  s->mounts = m;
  m[s->n_mounts++] = (struct mount_entry){
      .type = fields[0],
      .source = fields[1],
      .target = fields[2],
      .options = strcmp(fields[3], "-") == 0 ? fields[3] + 1 : fields[3],
  };
  return 0;
}

static int parse_bind(struct spec *s, char *value) {
  char *fields[3];
  if (split_fields(value, fields, 3) < 0 || fields[0][0] != '/' || fields[1][0] != '/') return -1;
  if (strcmp(fields[2], "ro") != 0 && strcmp(fields[2], "rw") != 0) return -1;
  struct bind_entry *b = realloc(s->binds, (s->n_binds + 1) * sizeof *b);
  if (!b) return -1;
  s->binds = b;
  b[s->n_binds++] = (struct bind_entry){.source = fields[0], .target = fields[1], .readonly = fields[2][1] == 'o'};
  return 0;
}

static int parse_userns(struct spec *s, char *value) {
  char *fields[3];
  unsigned long uid, gid, size;
  if (split_fields(value, fields, 3) < 0 || parse_uint(fields[0], 0xFFFFFFFEUL, &uid) < 0 || parse_uint(fields[1], 0xFFFFFFFEUL, &gid) < 0 ||
      parse_uint(fields[2], 0xFFFFFFFFUL, &size) < 0 || size == 0 || uid == 0 || gid == 0 || uid + size > 0xFFFFFFFFUL || gid + size > 0xFFFFFFFFUL)
    return -1;
  s->userns_uid = uid;
  s->userns_gid = gid;
  s->userns_size = size;
  return 0;
}

/* Applies one "<key> <value>" line. Returns 0, -1 for a bad value, -2 for an unknown key. */
static int apply(struct spec *s, const char *key, char *value) {
  unsigned long n;
  if (strcmp(key, "mount") == 0) return parse_mount(s, value);
  if (strcmp(key, "bind") == 0) return parse_bind(s, value);
  if (strcmp(key, "seccomp") == 0) return seccomp_parse_default(&s->seccomp, value);
  if (strcmp(key, "seccomp-others") == 0) return seccomp_parse_others(&s->seccomp, value);
  if (strcmp(key, "seccomp-rule") == 0) return seccomp_parse_rule(&s->seccomp, value);
  if (strcmp(key, "seccomp-cache") == 0) return seccomp_parse_cache(&s->seccomp, value);
  if (strcmp(key, "userns") == 0) return parse_userns(s, value);
  int r = security_parse(&s->security, key, value);
  if (r != -2) return r;
  if (unescape(value) < 0) return -1;
  if (strcmp(key, "id") == 0) s->id = value;
  else if (strcmp(key, "rootfs") == 0) s->rootfs = value;
  else if (strcmp(key, "arg") == 0) return strv_push(&s->args, value);
  else if (strcmp(key, "env") == 0) return strchr(value, '=') ? strv_push(&s->env, value) : -1;
  else if (strcmp(key, "cgroup") == 0) return value[0] == '/' ? strv_push(&s->cgroups, value) : -1;
  else if (strcmp(key, "cwd") == 0) s->cwd = value;
  else if (strcmp(key, "user") == 0) s->user = value;
  else if (strcmp(key, "hostname") == 0) s->hostname = value;
  else if (strcmp(key, "exit-file") == 0) {
    if (value[0] != '/') return -1;
    s->exit_file = value;
  } else if (strcmp(key, "netns") == 0) {
    if (strcmp(value, "new") != 0 && strcmp(value, "host") != 0 && value[0] != '/') return -1;
    s->netns = value;
  } else if (strcmp(key, "netns-of") == 0) {
    char *fields[2];
    unsigned long pid, parent;
    if (split_fields(value, fields, 2) < 0 || parse_uint(fields[0], 0x3FFFFFFFUL, &pid) < 0 || parse_uint(fields[1], 0x3FFFFFFFUL, &parent) < 0 || pid == 0 || parent == 0) return -1;
    s->netns_pid = (pid_t)pid;
    s->netns_parent = (pid_t)parent;
    s->netns = "process";
  } else if (strcmp(key, "hold") == 0) {
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return -1;
    s->hold = value[0] == '1';
  }
  else if (strcmp(key, "tty") == 0 || strcmp(key, "stdin") == 0) {
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return -1;
    *(key[0] == 't' ? &s->tty : &s->stdin_open) = value[0] == '1';
  } else if (strcmp(key, "rows") == 0 || strcmp(key, "cols") == 0) {
    if (parse_uint(value, 65535, &n) < 0) return -1;
    *(key[0] == 'r' ? &s->rows : &s->cols) = (unsigned)n;
  } else if (strcmp(key, "buffer") == 0) {
    if (parse_uint(value, 1UL << 30, &n) < 0 || n < 4096) return -1;
    s->buffer = n;
  } else if (strcmp(key, "offset") == 0) {
    char *end;
    errno = 0;
    s->start_offset = strtoull(value, &end, 10);
    if (errno || end == value || *end || *value == '-' || s->start_offset > (1ULL << 53)) return -1;
  } else if (strcmp(key, "pid") == 0) {
    if (parse_uint(value, INT_MAX, &n) < 0 || n == 0) return -1;
    s->pid = (pid_t)n;
  } else if (strcmp(key, "parent") == 0) {
    if (parse_uint(value, INT_MAX, &n) < 0 || n == 0) return -1;
    s->parent = (pid_t)n;
  } else return -2;
  return 0;
}

int spec_load(struct spec *s, const char *path, struct shim_err *e) {
  *s = (struct spec){.buffer = SHIM_DEFAULT_BUFFER, .cwd = "/", .user = "", .hostname = "", .netns = "new", .userns_fd = -1};
  if (read_file(path, &s->text, e) < 0) return -1;
  int lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(s->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    char *sp = strchr(line, ' ');
    if (!sp) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s line %d: expected \"<key> <value>\"", path, lineno);
    *sp = '\0';
    if (lineno == 1 && (strcmp(line, "version") != 0 || strcmp(sp + 1, "1") != 0))
      return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s: unsupported spec version (first line must be \"version 1\")", path);
    if (lineno == 1) continue;
    int r = apply(s, line, sp + 1);
    if (r == -2) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s line %d: unknown key \"%s\"", path, lineno, line);
    if (r < 0) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s line %d: invalid value for \"%s\"", path, lineno, line);
  }
  if (lineno == 0) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s: empty", path);
  if (s->args.n == 0) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec %s: no \"arg\" line", path);
  return seccomp_prepare(&s->seccomp, e); /* before any fork: the process only loads it */
}

void spec_free(struct spec *s) {
  strv_free(&s->args);
  strv_free(&s->env);
  strv_free(&s->cgroups);
  free(s->mounts);
  free(s->binds);
  seccomp_spec_free(&s->seccomp);
  security_spec_free(&s->security);
  if (s->userns_fd >= 0) close(s->userns_fd);
  s->userns_fd = -1;
  free(s->text);
  s->text = NULL;
  s->mounts = NULL;
  s->binds = NULL;
}
