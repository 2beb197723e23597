#include "security.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT
 * MKNOD AUDIT_WRITE SETFCAP = 0xa80425fb, what `docker run` grants by default. */
static const uint64_t default_caps = (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) |
                                     (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) |
                                     (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) | (1ULL << CAP_NET_BIND_SERVICE) |
                                     (1ULL << CAP_NET_RAW) | (1ULL << CAP_SYS_CHROOT) | (1ULL << CAP_MKNOD) |
                                     (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_SETFCAP);

uint64_t security_caps(const struct security_spec *s) {
  return s->has_caps ? s->caps : default_caps;
}

static int parse_ulong(const char *v, int base, unsigned long max, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, base);
  if (errno || end == v || *end || *v == '-' || n > max) return -1;
  *out = n;
  return 0;
}

static int parse_flag(const char *value, int *out) {
  if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return -1;
  *out = value[0] == '1';
  return 0;
}

/* Splits in place into exactly n space-separated fields, each unescaped; the last may be empty when allow_empty_last. */
static int fields(char *value, char **out, int n, int allow_empty_last) {
  for (int i = 0; i < n; i++) {
    out[i] = value;
    char *sp = strchr(value, ' ');
    if (i < n - 1) {
      if (!sp) return -1;
      *sp = '\0';
      value = sp + 1;
    } else if (sp) {
      return -1;
    }
  }
  for (int i = 0; i < n; i++) {
    if (spec_unescape(out[i]) < 0) return -1;
    if (!*out[i] && !(allow_empty_last && i == n - 1)) return -1;
  }
  return 0;
}

static int parse_tmpfs(struct security_spec *s, char *value) {
  char *f[2];
  if (fields(value, f, 2, 0) < 0 || f[0][0] != '/') return -1;
  struct tmpfs_entry *t = realloc(s->tmpfs, (s->n_tmpfs + 1) * sizeof *t);
  if (!t) return -1;
  s->tmpfs = t;
  t[s->n_tmpfs++] = (struct tmpfs_entry){.target = f[0], .options = strcmp(f[1], "-") == 0 ? f[1] + 1 : f[1]};
  return 0;
}

static int parse_device(struct security_spec *s, char *value) {
  char *f[7];
  unsigned long major, minor, mode, uid, gid;
  if (fields(value, f, 7, 0) < 0 || f[0][0] != '/') return -1;
  if ((strcmp(f[1], "c") != 0 && strcmp(f[1], "b") != 0) || parse_ulong(f[2], 10, 0xfffff, &major) < 0 ||
      parse_ulong(f[3], 10, 0xfffff, &minor) < 0 || parse_ulong(f[4], 8, 07777, &mode) < 0 ||
      parse_ulong(f[5], 10, 0xffffffffUL, &uid) < 0 || parse_ulong(f[6], 10, 0xffffffffUL, &gid) < 0)
    return -1;
  struct device_entry *d = realloc(s->devices, (s->n_devices + 1) * sizeof *d);
  if (!d) return -1;
  s->devices = d;
  d[s->n_devices++] = (struct device_entry){
      .path = f[0], .type = f[1][0], .major = (unsigned)major, .minor = (unsigned)minor, .mode = (mode_t)mode, .uid = (uid_t)uid, .gid = (gid_t)gid};
  return 0;
}

static int parse_device_number(const char *v, int *out) {
  unsigned long n;
  if (strcmp(v, "*") == 0) {
    *out = -1;
    return 0;
  }
  if (parse_ulong(v, 10, 0xfffff, &n) < 0) return -1;
  *out = (int)n;
  return 0;
}

static int parse_device_rule(struct security_spec *s, char *value) {
  char *f[4];
  if (fields(value, f, 4, 0) < 0 || strlen(f[0]) != 1 || !strchr("acb", f[0][0]) || s->n_device_rules >= SECURITY_MAX_DEVICE_RULES) return -1;
  struct device_rule r = {.type = f[0][0]};
  if (parse_device_number(f[1], &r.major) < 0 || parse_device_number(f[2], &r.minor) < 0) return -1;
  for (const char *a = f[3]; *a; a++) {
    if (*a == 'm') r.access |= DEVICE_ACCESS_MKNOD;
    else if (*a == 'r') r.access |= DEVICE_ACCESS_READ;
    else if (*a == 'w') r.access |= DEVICE_ACCESS_WRITE;
    else return -1;
  }
  struct device_rule *grown = realloc(s->device_rules, (s->n_device_rules + 1) * sizeof *grown);
  if (!grown) return -1;
  s->device_rules = grown;
  s->device_rules[s->n_device_rules++] = r;
  return 0;
}

int security_parse(struct security_spec *s, const char *key, char *value) {
  if (strcmp(key, "caps") == 0) {
    unsigned long long n;
    char *end;
    errno = 0;
    n = strtoull(value, &end, 16);
    if (errno || end == value || *end || *value == '-') return -1;
    s->caps = n;
    s->has_caps = 1;
    return 0;
  }
  if (strcmp(key, "privileged") == 0) return parse_flag(value, &s->privileged);
  if (strcmp(key, "readonly-rootfs") == 0) return parse_flag(value, &s->readonly_rootfs);
  if (strcmp(key, "no-new-privs") == 0) return parse_flag(value, &s->no_new_privs);
  if (strcmp(key, "tmpfs") == 0) return parse_tmpfs(s, value);
  if (strcmp(key, "device") == 0) return parse_device(s, value);
  if (strcmp(key, "device-rule") == 0) return parse_device_rule(s, value);
  return -2;
}

void security_spec_free(struct security_spec *s) {
  free(s->tmpfs);
  free(s->devices);
  free(s->device_rules);
  s->tmpfs = NULL;
  s->devices = NULL;
  s->device_rules = NULL;
  s->n_tmpfs = s->n_devices = s->n_device_rules = 0;
}
