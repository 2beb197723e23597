#include "namespaces/userns.h"

#include "namespaces/rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_map(pid_t pid, const char *file, unsigned long host, unsigned long size, struct shim_err *e) {
  char path[64], line[96];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int n = snprintf(line, sizeof line, "0 %lu %lu\n", host, size);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return shim_fail(e, errno, "open %s", path);
  if (write(fd, line, (size_t)n) != n) return shim_fail(e, errno, "write %s (\"0 %lu %lu\")", path, host, size);
  return 0;
}

/* Reads exactly len bytes (EINTR retried); 0, or -1 on EOF or error. */
static int read_exact(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 0;
}

static void close_pair(int p[2]) {
  close_fd(&p[0]);
  close_fd(&p[1]);
}

/* What the user namespace helper's first answer says. */
enum { HELPER_OK = 0, HELPER_SETNS_NET = 1, HELPER_UNSHARE = 2 };

pid_t userns_fork_init(const struct spec *s, int new_net, int net_fd, int *userns_fd, void (*init)(void *), void *arg, struct shim_err *e) {
  int ready[2] = {-1, -1}, go[2] = {-1, -1};
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
    int err = errno;
    close_pair(ready);
    return shim_fail(e, err, "pipe2 userns");
  }
  pid_t helper = fork();
  if (helper < 0) {
    int err = errno;
    close_pair(ready);
    close_pair(go);
    return shim_fail(e, err, "fork the user namespace helper");
  }
  if (helper == 0) {
    close(ready[0]);
    close(go[1]);
    /* One call: the kernel makes the user namespace first and the others owned by it. Each answer
     * says the errno of what failed (the step, then -errno), so the shim reports the real cause. */
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | (new_net ? CLONE_NEWNET : 0);
    int32_t step[2] = {HELPER_OK, 0};
    if (net_fd >= 0 && setns(net_fd, CLONE_NEWNET) < 0) step[0] = HELPER_SETNS_NET, step[1] = errno;
    else if (unshare(flags) < 0) step[0] = HELPER_UNSHARE, step[1] = errno;
    char c;
    if (write(ready[1], step, sizeof step) != (ssize_t)sizeof step || step[0] != HELPER_OK || read_exact(go[0], &c, 1) < 0) _exit(1);
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
      close(ready[1]);
      close(go[0]);
      init(arg);
      _exit(SHIM_EXIT_OTHER);
    }
    int32_t out = pid < 0 ? -errno : pid;
    _exit(write(ready[1], &out, sizeof out) == (ssize_t)sizeof out ? 0 : 1);
  }
  close_fd(&ready[1]);
  close_fd(&go[0]);
  int32_t step[2] = {-1, EPIPE};
  int32_t pid = -1;
  if (read_exact(ready[0], step, sizeof step) < 0) {
    shim_fail(e, EPIPE, "the user namespace helper ended before it made the container's namespaces");
  } else if (step[0] == HELPER_SETNS_NET) {
    shim_fail(e, step[1], "setns the network namespace %s in the user namespace helper", s->netns[0] == '/' ? s->netns : "of the container it joins");
  } else if (step[0] != HELPER_OK) {
    shim_fail(e, step[1], "unshare the user namespace and the container's namespaces in the user namespace helper");
  } else if (write_map(helper, "uid_map", s->userns_uid, s->userns_size, e) == 0 &&
             write_map(helper, "gid_map", s->userns_gid, s->userns_size, e) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)helper);
    if ((*userns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) shim_fail(e, errno, "open %s", path);
    else if (write(go[1], "g", 1) != 1 || read_exact(ready[0], &pid, sizeof pid) < 0) {
      shim_fail(e, EPIPE, "the user namespace helper ended before it forked the container's init");
      pid = -1;
    } else if (pid <= 0) {
      shim_fail(e, pid < 0 ? -pid : ECHILD, "clone the container's init in its namespaces (user namespace helper)");
      pid = -1;
    }
  }
  close_fd(&ready[0]);
  close_fd(&go[1]);
  while (waitpid(helper, NULL, 0) < 0 && errno == EINTR) {
  }
  return pid > 0 ? (pid_t)pid : -1;
}

int userns_join_init(pid_t pid, struct shim_err *e) {
  static const struct {
    int type;
    const char *file;
  } order[] = {{CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWNET, "net"}, {CLONE_NEWUTS, "uts"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWNS, "mnt"}};
  int fds[sizeof order / sizeof order[0]];
  size_t opened = 0;
  int rc = 0;
  for (; opened < sizeof order / sizeof order[0]; opened++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, order[opened].file);
    if ((fds[opened] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
      rc = shim_fail(e, errno, "open %s", path);
      break;
    }
  }
  for (size_t i = 0; rc == 0 && i < opened; i++)
    if (setns(fds[i], order[i].type) < 0) rc = shim_fail(e, errno, "setns /proc/%d/ns/%s (the container's, owned by its user namespace)", (int)pid, order[i].file);
  for (size_t i = 0; i < opened; i++) close(fds[i]);
  return rc;
}

/* An idmapped clone of `path` (not recursive), attached at `at`. */
static int attach_idmapped(const char *path, int userns_fd, const char *at, struct shim_err *e) {
  cleanup_close int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) return shim_fail(e, errno, "open_tree %s", path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return shim_fail(e, errno, "idmap %s (mount_setattr MOUNT_ATTR_IDMAP; needs Linux 5.12 and a file system that supports it)", path);
  if (mkdir(at, 0700) < 0) return shim_fail(e, errno, "mkdir %s", at);
  if (syscall(SYS_move_mount, fd, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0) return shim_fail(e, errno, "move_mount %s to %s", path, at);
  return 0;
}

/* The folder of `path` ("/a/b/upper" -> "/a/b") into out. */
static int folder_of(const char *path, char *out, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return -1;
  if ((size_t)(slash - path) >= len) return -1;
  memcpy(out, path, (size_t)(slash - path));
  out[slash - path] = '\0';
  return 0;
}

int userns_fs_as_root(const struct spec *s, struct shim_err *e) {
  setfsgid((gid_t)s->userns_gid);
  setfsuid((uid_t)s->userns_uid);
  if ((uid_t)setfsuid((uid_t)-1) != (uid_t)s->userns_uid) return shim_fail(e, EPERM, "setfsuid %lu", s->userns_uid);
  /* A non-zero fsuid clears the file capabilities from the effective set: raise them again. */
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return shim_fail(e, errno, "capget");
  data[0].effective = data[0].permitted;
  data[1].effective = data[1].permitted;
  if (syscall(SYS_capset, &hdr, data) < 0) return shim_fail(e, errno, "capset");
  return 0;
}

int userns_mount_overlay(const struct mount_entry *m, int userns_fd, struct shim_err *e) {
  char opts[4096], out[8192], upper_folder[PATH_MAX] = "", at[PATH_MAX];
  if (snprintf(opts, sizeof opts, "%s", m->options) >= (int)sizeof opts) return shim_fail(e, E2BIG, "mount %s: options", m->target);
  /* Every path is cloned before the staging tmpfs hides the target (which may sit in the upper's folder). */
  if (mkdir_p(m->target, 0755, e) < 0) return -1;
  char *lower = NULL, *upper = NULL, *work = NULL, *rest[32];
  size_t n_rest = 0;
  char *save = NULL;
  for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    if (strncmp(o, "lowerdir=", 9) == 0) lower = o + 9;
    else if (strncmp(o, "upperdir=", 9) == 0) upper = o + 9;
    else if (strncmp(o, "workdir=", 8) == 0) work = o + 8;
    else if (n_rest < sizeof rest / sizeof rest[0]) rest[n_rest++] = o;
    else return shim_fail(e, E2BIG, "mount %s: too many options", m->target);
  }
  if (!lower) return shim_fail(e, EINVAL, "mount %s: an overlay without lowerdir", m->target);
  if (upper) {
    char work_folder[PATH_MAX];
    if (!work || folder_of(upper, upper_folder, sizeof upper_folder) < 0 || folder_of(work, work_folder, sizeof work_folder) < 0 ||
        strcmp(upper_folder, work_folder) != 0)
      return shim_fail(e, EINVAL, "mount %s: upperdir and workdir must be in one folder to be idmapped", m->target);
  }
  if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=700,size=64k") < 0)
    return shim_fail(e, errno, "mount the idmap staging tmpfs on %s", m->target);
  size_t used = (size_t)snprintf(out, sizeof out, "lowerdir=");
  int i = 0;
  char *lsave = NULL;
  for (char *l = strtok_r(lower, ":", &lsave); l; l = strtok_r(NULL, ":", &lsave), i++) {
    snprintf(at, sizeof at, "%s/l%d", m->target, i);
    if (attach_idmapped(l, userns_fd, at, e) < 0) return -1;
    used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", i ? ":" : "", at);
    if (used >= sizeof out) return shim_fail(e, E2BIG, "mount %s: options", m->target);
  }
  if (upper) {
    snprintf(at, sizeof at, "%s/u", m->target);
    if (attach_idmapped(upper_folder, userns_fd, at, e) < 0) return -1;
    used += (size_t)snprintf(out + used, sizeof out - used, ",upperdir=%s%s,workdir=%s%s", at, strrchr(upper, '/'), at, strrchr(work, '/'));
  }
  for (size_t r = 0; r < n_rest && used < sizeof out; r++) used += (size_t)snprintf(out + used, sizeof out - used, ",%s", rest[r]);
  if (used >= sizeof out || used >= 4096) return shim_fail(e, E2BIG, "mount %s: the idmapped overlay's options are longer than a page", m->target);
  if (mount(m->source, m->target, m->type, 0, out) < 0)
    return shim_fail(e, errno, "mount %s on %s (type %s) on idmapped layers", m->source, m->target, m->type);
  return 0;
}

int userns_enter(int fd, struct shim_err *e) {
  if (setns(fd, CLONE_NEWUSER) < 0) return shim_fail(e, errno, "setns into the container's user namespace");
  /* Root of the namespace; user_switch sets the image's user afterwards. */
  if (setresgid(0, 0, 0) < 0) return shim_fail(e, errno, "setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) return shim_fail(e, errno, "setresuid 0 in the user namespace");
  return 0;
}

int userns_of(pid_t pid, struct shim_err *e) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return shim_fail(e, errno, "open %s", path);
  struct stat theirs, ours;
  if (fstat(fd, &theirs) < 0 || stat("/proc/self/ns/user", &ours) < 0) {
    int err = errno;
    close(fd);
    return shim_fail(e, err, "stat the user namespaces of pid %d and the shim", (int)pid);
  }
  if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) {
    close(fd);
    return -2;
  }
  return fd;
}
