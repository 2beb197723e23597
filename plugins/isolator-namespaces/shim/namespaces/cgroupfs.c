#include "namespaces/cgroupfs.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOST_CGROUP "/sys/fs/cgroup"
#define TARGET "sys/fs/cgroup"
static const unsigned long RO_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

/* One cgroup file system the host has at or below /sys/fs/cgroup, from /proc/self/mountinfo. */
struct cgroup_mount {
  char point[PATH_MAX];   /* where the host has it */
  char fstype[32];        /* cgroup, cgroup2 or tmpfs */
  char options[512];      /* super options without rw/ro: "memory", "cpu,cpuacct", "xattr,name=systemd" */
};

static void fstab_unescape(char *s) {
  char *out = s;
  for (char *in = s; *in; out++) {
    if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] && in[3]) {
      *out = (char)(((in[1] - '0') << 6) | ((in[2] - '0') << 3) | (in[3] - '0'));
      in += 4;
    } else {
      *out = *in++;
    }
  }
  *out = '\0';
}

/* Parses one mountinfo line; returns 1 for a cgroup, cgroup2 or tmpfs mount at or below /sys/fs/cgroup. */
static int parse_mountinfo_line(char *line, struct cgroup_mount *m) {
  char *save = NULL, *point = NULL;
  char *f = strtok_r(line, " \n", &save);
  for (int i = 0; f && i < 4; i++) f = strtok_r(NULL, " \n", &save); /* id, parent, dev, root */
  point = f;
  while (f && strcmp(f, "-") != 0) f = strtok_r(NULL, " \n", &save);
  char *type = f ? strtok_r(NULL, " \n", &save) : NULL;
  char *source = type ? strtok_r(NULL, " \n", &save) : NULL;
  char *super = source ? strtok_r(NULL, " \n", &save) : NULL;
  if (!point || !super) return 0;
  fstab_unescape(point);
  if (strncmp(point, HOST_CGROUP, strlen(HOST_CGROUP)) != 0) return 0;
  const char *rest = point + strlen(HOST_CGROUP);
  if (*rest != '\0' && (*rest != '/' || strchr(rest + 1, '/'))) return 0; /* only /sys/fs/cgroup and its children */
  if (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0 && strcmp(type, "tmpfs") != 0) return 0;
  snprintf(m->point, sizeof m->point, "%s", point);
  snprintf(m->fstype, sizeof m->fstype, "%s", type);
  m->options[0] = '\0';
  char *osave = NULL;
  for (char *o = strtok_r(super, ",", &osave); o; o = strtok_r(NULL, ",", &osave)) {
    if (strcmp(o, "rw") == 0 || strcmp(o, "ro") == 0) continue;
    size_t used = strlen(m->options);
    snprintf(m->options + used, sizeof m->options - used, "%s%s", used ? "," : "", o);
  }
  return 1;
}

/* The mounts at /sys/fs/cgroup and one level below; later mounts on the same point win. */
static int read_cgroup_mounts(struct cgroup_mount *out, size_t max, size_t *n, struct shim_err *e) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return shim_fail(e, errno, "open /proc/self/mountinfo");
  char line[4096];
  *n = 0;
  while (fgets(line, sizeof line, f)) {
    struct cgroup_mount m;
    if (!parse_mountinfo_line(line, &m)) continue;
    size_t i;
    for (i = 0; i < *n && strcmp(out[i].point, m.point) != 0; i++) {}
    if (i == *n) {
      if (*n == max) continue;
      (*n)++;
    }
    out[i] = m;
  }
  fclose(f);
  return 0;
}

static int mount_at(const char *source, const char *target, const char *type, unsigned long flags, const char *data,
                    struct shim_err *e) {
  if (mount(source, target, type, flags, data && *data ? data : NULL) < 0)
    return shim_fail(e, errno, "mount %s on /%s (type %s, options %s)", source ? source : "none", target, type ? type : "bind",
                     data && *data ? data : "none");
  return 0;
}

/* The host's links beside its hierarchies (cpu -> cpu,cpuacct), made again in the container's tmpfs where they name one shown. */
static int copy_links(struct shim_err *e) {
  DIR *d = opendir(HOST_CGROUP);
  if (!d) return 0;
  struct dirent *ent;
  int rc = 0;
  while (rc == 0 && (ent = readdir(d))) {
    if (ent->d_type != DT_LNK) continue;
    char host[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
    snprintf(host, sizeof host, "%s/%s", HOST_CGROUP, ent->d_name);
    ssize_t len = readlink(host, link, sizeof link - 1);
    if (len < 0) continue;
    link[len] = '\0';
    snprintf(target, sizeof target, "%s/%s", TARGET, ent->d_name);
    char named[PATH_MAX * 2 + 2];
    snprintf(named, sizeof named, "%s/%s", TARGET, link);
    if (link[0] == '/' || strchr(link, '/') || access(named, F_OK) < 0) continue; /* only links to what is shown */
    if (symlink(link, target) < 0 && errno != EEXIST) rc = shim_fail(e, errno, "symlink /%s -> %s", target, link);
  }
  closedir(d);
  return rc;
}

/*
 * Whether the container has a cgroup of its own in the hierarchy mounted at `point`: one of the
 * spec's folders (links resolved: /sys/fs/cgroup/cpu may name cpu,cpuacct) lies below it.
 * Elsewhere (name=systemd, the hybrid layout's cgroup2, a controller the limiter does not use)
 * the namespace's root is the shim's cgroup, so the hierarchy is left out.
 */
static int holds_container(const struct strv *cgroups, const char *point) {
  size_t len = strlen(point);
  for (size_t i = 0; i < cgroups->n; i++) {
    char real[PATH_MAX];
    const char *dir = realpath(cgroups->items[i], real) ? real : cgroups->items[i];
    if (strncmp(dir, point, len) == 0 && dir[len] == '/') return 1;
  }
  return 0;
}

/* v1 or hybrid: a tmpfs, each hierarchy with the container's cgroup below it (rooted there), then read-only. */
static int mount_hierarchies(const struct strv *cgroups, const struct cgroup_mount *mounts, size_t n, unsigned long flags,
                             struct shim_err *e) {
  if (mount_at("tmpfs", TARGET, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", e) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    const struct cgroup_mount *m = &mounts[i];
    if (strcmp(m->fstype, "tmpfs") == 0 || !holds_container(cgroups, m->point)) continue;
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%s%s", TARGET, m->point + strlen(HOST_CGROUP));
    if (mkdir(target, 0755) < 0 && errno != EEXIST) return shim_fail(e, errno, "mkdir /%s", target);
    if (mount_at(m->fstype, target, m->fstype, flags, m->options, e) < 0) return -1;
  }
  if (copy_links(e) < 0) return -1;
  return mount_at(NULL, TARGET, NULL, MS_REMOUNT | MS_BIND | flags, NULL, e);
}

int cgroupfs_mount(const struct strv *cgroups, int writable, struct shim_err *e) {
  /* Read-only, as Docker; writable for a privileged container, as Docker mounts it then. */
  unsigned long flags = writable ? RO_FLAGS & ~MS_RDONLY : RO_FLAGS;
  struct cgroup_mount mounts[32];
  size_t n = 0;
  if (read_cgroup_mounts(mounts, sizeof mounts / sizeof mounts[0], &n, e) < 0) return -1;
  const struct cgroup_mount *top = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(mounts[i].point, HOST_CGROUP) == 0) top = &mounts[i];
  if (!top || cgroups->n == 0) return 0; /* no cgroup file system there, or no cgroup of its own: nothing to show */
  if (strcmp(top->fstype, "tmpfs") == 0) return mount_hierarchies(cgroups, mounts, n, flags, e);
  if (!holds_container(cgroups, top->point)) return 0;
  /* cgroup2's options (nsdelegate…) belong to the host's mount; a namespace cannot set them. */
  if (strcmp(top->fstype, "cgroup2") == 0) return mount_at("cgroup2", TARGET, "cgroup2", flags, NULL, e);
  return mount_at(top->fstype, TARGET, top->fstype, flags, top->options, e); /* one v1 hierarchy right there */
}
