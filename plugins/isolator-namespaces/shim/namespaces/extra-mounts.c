#include "namespaces/extra-mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "namespaces/rootfs.h"

/* Opens `path` as if `root` were /: symlinks and ".." never leave it. */
static int open_in_root(int root, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* Makes every folder of `dir` (absolute, inside root) that is missing; returns an O_PATH fd of it. */
static int mkdir_in_root(int root, const char *dir, struct shim_err *e) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return shim_fail(e, ENAMETOOLONG, "%s", dir);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    int fd = open_in_root(root, buf, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      char *slash = strrchr(buf, '/');
      *slash = '\0';
      cleanup_close int parent = open_in_root(root, buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0) return shim_fail(e, errno, "open the folder of %s", buf);
      if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST) return shim_fail(e, errno, "mkdir %s", buf);
      fd = open_in_root(root, buf, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) return shim_fail(e, errno, "open %s", buf);
    if (!c) return fd;
    close(fd);
    *p = c;
  }
}

/* The folder of `path` (made when missing) and its last component. */
static int parent_in_root(int root, const char *path, const char **name, struct shim_err *e) {
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof dir) return shim_fail(e, EINVAL, "bad path %s", path);
  if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  *name = slash + 1;
  return mkdir_in_root(root, dir, e);
}

static int make_device(int root, const struct device_entry *d, struct shim_err *e) {
  const char *name;
  cleanup_close int dir = parent_in_root(root, d->path, &name, e);
  if (dir < 0) return -1;
  mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
  if (mknodat(dir, name, type | d->mode, makedev(d->major, d->minor)) < 0) {
    if (errno == EEXIST) return 0; /* as runc: what is there (the default /dev/null ...) stays */
    return shim_fail(e, errno, "mknod %s (%c %u:%u)", d->path, d->type, d->major, d->minor);
  }
  if (fchmodat(dir, name, d->mode, 0) < 0) return shim_fail(e, errno, "chmod %s", d->path); /* past the umask */
  if (fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) return shim_fail(e, errno, "chown %s", d->path);
  return 0;
}

struct mount_flag {
  const char *name;
  unsigned long set, clear;
};
static const struct mount_flag tmpfs_flags[] = {
    {"ro", MS_RDONLY, 0},           {"rw", 0, MS_RDONLY},          {"nosuid", MS_NOSUID, 0},     {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},         {"dev", 0, MS_NODEV},          {"noexec", MS_NOEXEC, 0},     {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},    {"async", 0, MS_SYNCHRONOUS},  {"dirsync", MS_DIRSYNC, 0},   {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},       {"nodiratime", MS_NODIRATIME, 0}, {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},   {"norelatime", 0, MS_RELATIME}, {"strictatime", MS_STRICTATIME, 0},
    {"nostrictatime", 0, MS_STRICTATIME},
};

static int mount_tmpfs(int root, const struct tmpfs_entry *t, struct shim_err *e) {
  char buf[1024], data[1024] = "";
  unsigned long flags = 0;
  if (snprintf(buf, sizeof buf, "%s", t->options) >= (int)sizeof buf) return shim_fail(e, E2BIG, "tmpfs %s: options", t->target);
  char *save = NULL;
  for (char *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    size_t i, n = sizeof tmpfs_flags / sizeof tmpfs_flags[0];
    for (i = 0; i < n && strcmp(o, tmpfs_flags[i].name) != 0; i++) {
    }
    if (i < n) {
      flags = (flags & ~tmpfs_flags[i].clear) | tmpfs_flags[i].set;
      continue;
    }
    size_t used = strlen(data);
    if (snprintf(data + used, sizeof data - used, "%s%s", used ? "," : "", o) >= (int)(sizeof data - used))
      return shim_fail(e, E2BIG, "tmpfs %s: options", t->target);
  }
  cleanup_close int target = mkdir_in_root(root, t->target, e);
  if (target < 0) return -1;
  char at[64];
  snprintf(at, sizeof at, "/proc/self/fd/%d", target);
  if (mount("tmpfs", at, "tmpfs", flags, data[0] ? data : NULL) < 0) return shim_fail(e, errno, "mount tmpfs on %s (%s)", t->target, t->options);
  return 0;
}

int extra_mounts_before_pivot(const struct security_spec *s, struct shim_err *e) {
  if (s->n_devices == 0 && s->n_tmpfs == 0) return 0;
  cleanup_close int root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return shim_fail(e, errno, "open the rootfs");
  for (size_t i = 0; i < s->n_devices; i++)
    if (make_device(root, &s->devices[i], e) < 0) return -1;
  for (size_t i = 0; i < s->n_tmpfs; i++)
    if (mount_tmpfs(root, &s->tmpfs[i], e) < 0) return -1;
  return 0;
}

/* "/" read-only, keeping the flags it has (a remount may not clear a locked one). */
static int readonly_root(struct shim_err *e) {
  struct statvfs st;
  if (statvfs("/", &st) < 0) return shim_fail(e, errno, "statvfs /");
  unsigned long keep = 0;
  if (st.f_flag & ST_NOSUID) keep |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) keep |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0) return shim_fail(e, errno, "remount / read-only");
  return 0;
}

int extra_mounts_after_pivot(const struct security_spec *s, const char *cwd, struct shim_err *e) {
  if (!s->privileged && rootfs_mask_paths(e) < 0) return -1;
  if (!s->readonly_rootfs) return 0;
  /* Docker makes a missing working directory before the root is read-only: so does this. */
  if (mkdir_p(cwd && *cwd ? cwd : "/", 0755, e) < 0) return -1;
  return readonly_root(e);
}
