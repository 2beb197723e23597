#include "namespaces/rootfs.h"

#include "namespaces/cgroupfs.h"
#include "namespaces/extra-mounts.h"
#include "namespaces/userns.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode, struct shim_err *e) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return shim_fail(e, ENAMETOOLONG, "mkdir %s", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return shim_fail(e, errno, "mkdir %s", buf);
    *p = c;
    if (!c) break;
  }
  return 0;
}

static int do_mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data,
                    struct shim_err *e) {
  if (mount(src, target, type, flags, data) < 0)
    return shim_fail(e, errno, "mount %s on %s (type %s)", src ? src : "none", target, type ? type : "bind");
  return 0;
}

struct mount_flag {
  const char *name;
  unsigned long set;
  unsigned long clear;
};
static const struct mount_flag mount_flags[] = {
    {"ro", MS_RDONLY, 0},         {"rw", 0, MS_RDONLY},         {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},       {"nodev", MS_NODEV, 0},       {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},     {"exec", 0, MS_NOEXEC},       {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0}, {"noatime", MS_NOATIME, 0}, {"relatime", MS_RELATIME, 0},
    {"strictatime", MS_STRICTATIME, 0}, {"nodiratime", MS_NODIRATIME, 0}, {"sync", MS_SYNCHRONOUS, 0},
};

/* Splits "a,b,c" into mount flags and the data string the filesystem parses itself. */
static int split_options(const char *opts, unsigned long *flags, char *data, size_t data_len) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", opts) >= (int)sizeof buf) return -1;
  data[0] = '\0';
  *flags = 0;
  char *save = NULL;
  for (char *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    size_t i;
    for (i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++) {
      if (strcmp(o, mount_flags[i].name) == 0) {
        *flags = (*flags & ~mount_flags[i].clear) | mount_flags[i].set;
        break;
      }
    }
    if (i < sizeof mount_flags / sizeof mount_flags[0]) continue;
    size_t used = strlen(data);
    if (snprintf(data + used, data_len - used, "%s%s", used ? "," : "", o) >= (int)(data_len - used)) return -1;
  }
  return 0;
}

static int apply_spec_mount(const struct spec *s, const struct mount_entry *m, struct shim_err *e) {
  if (s->userns_fd >= 0 && strcmp(m->type, "overlay") == 0) return userns_mount_overlay(m, s->userns_fd, e);
  unsigned long flags;
  char data[4096];
  if (split_options(m->options, &flags, data, sizeof data) < 0)
    return shim_fail(e, E2BIG, "mount %s on %s: options", m->source, m->target);
  if (mkdir_p(m->target, 0755, e) < 0) return -1;
  const char *data_or_null = data[0] ? data : NULL;
  if (!(flags & MS_BIND)) return do_mount(m->source, m->target, m->type, flags, data_or_null, e);
  if (do_mount(m->source, m->target, NULL, flags & (MS_BIND | MS_REC), data_or_null, e) < 0) return -1;
  /* A bind mount ignores the other flags on the first call: remount to apply them. */
  if (flags & ~(MS_BIND | MS_REC))
    return do_mount(NULL, m->target, NULL, MS_REMOUNT | MS_BIND | (flags & ~MS_REC), NULL, e);
  return 0;
}

/* Opens `path` as if `root` were /: symlinks and ".." never leave it (openat2 RESOLVE_IN_ROOT). */
static int open_in_root(int root, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/*
 * Makes `path` exist inside root (directories along the way, the last one a directory or, for a
 * file source, an empty file), every step resolved within root, so that an image's symlink
 * (/data -> /etc) cannot send a directory or a mount onto the host: a link is followed inside
 * root, and what it names is made there when missing. Returns an O_PATH fd of the target.
 */
static int bind_target(int root, const char *path, int dir, struct shim_err *e) {
  char want[PATH_MAX];
  if (snprintf(want, sizeof want, "%s", path) >= (int)sizeof want) return shim_fail(e, ENAMETOOLONG, "bind target %s", path);
  for (int links = 0; links < 40; links++) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", want);
    int restart = 0;
    for (char *p = buf + 1; !restart; p++) {
      if (*p != '/' && *p != '\0') continue;
      char c = *p;
      *p = '\0';
      int last = c == '\0' || p[1] == '\0';
      int fd = open_in_root(root, buf, O_PATH);
      if (fd < 0 && errno == ENOENT) {
        char *slash = strrchr(buf, '/');
        *slash = '\0';
        cleanup_close int parent = open_in_root(root, buf[0] ? buf : "/", O_PATH | O_DIRECTORY);
        char parent_path[PATH_MAX];
        snprintf(parent_path, sizeof parent_path, "%s", buf);
        *slash = '/';
        if (parent < 0) return shim_fail(e, errno, "bind target %s: open the folder of %s", path, buf);
        char link[PATH_MAX];
        ssize_t n = readlinkat(parent, slash + 1, link, sizeof link - 1);
        if (n >= 0) {
          /* A link to something missing: go on through what it names, still inside root. */
          link[n] = '\0';
          const char *rest = last ? "" : p + 1;
          int len = link[0] == '/' ? snprintf(want, sizeof want, "%s%s%s", link, *rest ? "/" : "", rest)
                                   : snprintf(want, sizeof want, "%s/%s%s%s", parent_path, link, *rest ? "/" : "", rest);
          if (len >= (int)sizeof want) return shim_fail(e, ENAMETOOLONG, "bind target %s", path);
          restart = 1;
          continue;
        }
        if (!last || dir) {
          if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST) return shim_fail(e, errno, "bind target %s: mkdir %s", path, buf);
        } else {
          int f = openat(parent, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (f < 0) return shim_fail(e, errno, "bind target %s: create %s", path, buf);
          close(f);
        }
        fd = open_in_root(root, buf, O_PATH);
      }
      if (fd < 0) return shim_fail(e, errno, "bind target %s: open %s", path, buf);
      if (last) return fd;
      close(fd);
      *p = c;
    }
  }
  return shim_fail(e, ELOOP, "bind target %s", path);
}

/* Binds a host path (recursively) onto a path inside the rootfs; read-only all the way down with "ro". */
static int apply_bind(int root, const struct bind_entry *b, struct shim_err *e) {
  struct stat st;
  if (stat(b->source, &st) < 0) return shim_fail(e, errno, "bind source %s", b->source);
  cleanup_close int target = bind_target(root, b->target, S_ISDIR(st.st_mode), e);
  if (target < 0) return -1;
  char at[64];
  snprintf(at, sizeof at, "/proc/self/fd/%d", target);
  if (mount(b->source, at, NULL, MS_BIND | MS_REC, NULL) < 0) return shim_fail(e, errno, "bind %s on %s", b->source, b->target);
  if (!b->readonly) return 0;
  /* The fd still names what the bind covers: open the target again to reach the new mount. */
  cleanup_close int mounted = open_in_root(root, b->target, O_PATH);
  if (mounted < 0) return shim_fail(e, errno, "bind %s on %s: reopen", b->source, b->target);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, mounted, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
  if (errno != ENOSYS) return shim_fail(e, errno, "bind %s on %s: make it read-only", b->source, b->target);
  snprintf(at, sizeof at, "/proc/self/fd/%d", mounted);
  return do_mount(NULL, at, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL, e);
}

static int mount_sys(const struct spec *s, struct shim_err *e) {
  if (mkdir_p("sys", 0755, e) < 0) return -1;
  /* Writable only for a privileged container, as Docker. */
  unsigned long ro = s->security.privileged ? 0 : MS_RDONLY;
  if (mount("sysfs", "sys", "sysfs", ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return cgroupfs_mount(&s->cgroups, s->security.privileged, e);
  /* Without the right to mount a fresh sysfs, show the host's read-only. */
  if (do_mount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL, e) < 0) return -1;
  if (do_mount(NULL, "sys", NULL, MS_REMOUNT | MS_BIND | ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e) < 0) return -1;
  return cgroupfs_mount(&s->cgroups, s->security.privileged, e);
}

struct device {
  const char *name;
  unsigned major, minor;
};
static const struct device devices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static int make_device(const struct device *d, struct shim_err *e) {
  char path[64], host[64];
  snprintf(path, sizeof path, "dev/%s", d->name);
  if (mknod(path, S_IFCHR | 0666, makedev(d->major, d->minor)) == 0) return chmod(path, 0666) < 0 ? shim_fail(e, errno, "chmod %s", path) : 0;
  /* No right to create device nodes: bind the host's node onto an empty file. */
  cleanup_close int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) return shim_fail(e, errno, "open %s", path);
  snprintf(host, sizeof host, "/dev/%s", d->name);
  return do_mount(host, path, NULL, MS_BIND, NULL, e);
}

static int make_symlink(const char *target, const char *path, struct shim_err *e) {
  if (symlink(target, path) < 0 && errno != EEXIST) return shim_fail(e, errno, "symlink %s -> %s", path, target);
  return 0;
}

static int mount_dev(struct shim_err *e) {
  if (mkdir_p("dev", 0755, e) < 0) return -1;
  if (do_mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", e) < 0) return -1;
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
    if (make_device(&devices[i], e) < 0) return -1;
  if (make_symlink("/proc/self/fd", "dev/fd", e) < 0 || make_symlink("/proc/self/fd/0", "dev/stdin", e) < 0 ||
      make_symlink("/proc/self/fd/1", "dev/stdout", e) < 0 || make_symlink("/proc/self/fd/2", "dev/stderr", e) < 0)
    return -1;
  if (mkdir_p("dev/pts", 0755, e) < 0) return -1;
  if (do_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", e) < 0)
    return -1;
  if (make_symlink("pts/ptmx", "dev/ptmx", e) < 0) return -1;
  if (mkdir_p("dev/shm", 01777, e) < 0) return -1;
  if (do_mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", e) < 0) return -1;
  /* POSIX message queues are optional: a failure leaves an empty directory. */
  if (mkdir_p("dev/mqueue", 0755, e) == 0) (void)mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  return 0;
}

static int pivot(const char *rootfs, struct shim_err *e) {
  if (chdir(rootfs) < 0) return shim_fail(e, errno, "chdir %s", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) return shim_fail(e, errno, "pivot_root %s", rootfs);
  /* The old root now sits on top of the new one: detach it. */
  if (umount2(".", MNT_DETACH) < 0) return shim_fail(e, errno, "umount2 old root of %s", rootfs);
  if (chdir("/") < 0) return shim_fail(e, errno, "chdir /");
  return 0;
}

int rootfs_setup(const struct spec *s, struct shim_err *e) {
  if (!s->rootfs || s->rootfs[0] != '/') return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "spec: rootfs must be an absolute path");
  if (do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, e) < 0) return -1;
  if (s->userns_fd >= 0 && userns_fs_as_root(s, e) < 0) return -1;
  for (size_t i = 0; i < s->n_mounts; i++)
    if (apply_spec_mount(s, &s->mounts[i], e) < 0) return -1;
  if (s->n_mounts == 0 && do_mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL, e) < 0) return -1;
  if (s->n_binds > 0) {
    cleanup_close int root = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return shim_fail(e, errno, "open %s", s->rootfs);
    for (size_t i = 0; i < s->n_binds; i++)
      if (apply_bind(root, &s->binds[i], e) < 0) return -1;
  }
  if (chdir(s->rootfs) < 0) return shim_fail(e, errno, "chdir %s", s->rootfs);
  if (mkdir_p("proc", 0555, e) < 0) return -1;
  if (do_mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e) < 0) return -1;
  if (mount_sys(s, e) < 0 || mount_dev(e) < 0 || extra_mounts_before_pivot(&s->security, e) < 0) return -1;
  return pivot(s->rootfs, e);
}

static const char *const masked_paths[] = {
    "/proc/asound",     "/proc/acpi",        "/proc/interrupts", "/proc/kcore",   "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware",    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

int rootfs_mask_paths(struct shim_err *e) {
  struct stat st;
  for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++) {
    const char *p = masked_paths[i];
    if (stat(p, &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (do_mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL, e) < 0) return -1;
    } else if (do_mount("/dev/null", p, NULL, MS_BIND, NULL, e) < 0) {
      return -1;
    }
  }
  for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++) {
    const char *p = readonly_paths[i];
    if (stat(p, &st) < 0) continue;
    if (do_mount(p, p, NULL, MS_BIND | MS_REC, NULL, e) < 0) return -1;
    if (do_mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, e) < 0) return -1;
  }
  return 0;
}
