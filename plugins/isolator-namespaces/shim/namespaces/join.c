#include "namespaces/join.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const ns_names[] = {"ipc", "uts", "net", "pid", "cgroup", "mnt"};

int ns_open(pid_t pid, struct ns_fds *ns, struct shim_err *e) {
  int *fds[] = {&ns->ipc, &ns->uts, &ns->net, &ns->pid, &ns->cgroup, &ns->mnt};
  for (size_t i = 0; i < 6; i++) *fds[i] = -1;
  char root[64];
  snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
  ns->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ns->root < 0) return shim_fail(e, errno, "open %s", root);
  for (size_t i = 0; i < 6; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, ns_names[i]);
    *fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (*fds[i] < 0 && !(errno == ENOENT && fds[i] == &ns->cgroup)) {
      int err = errno;
      ns_close(ns);
      return shim_fail(e, err, "open %s", path);
    }
  }
  return 0;
}

ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return n;
}

pid_t proc_parent_of(pid_t pid) {
  char buf[1024];
  if (proc_read(pid, "status", buf, sizeof buf) < 0) return -1;
  const char *p = strstr(buf, "\nPPid:");
  return p ? (pid_t)strtol(p + 7, NULL, 10) : -1;
}

unsigned long long proc_start_time_of(pid_t pid) {
  char buf[1024];
  if (proc_read(pid, "stat", buf, sizeof buf) < 0) return 0;
  /* The command (field 2) may hold spaces and parentheses: the fields after it follow its last ')'. */
  const char *p = strrchr(buf, ')');
  if (!p) return 0;
  p++;
  for (int field = 3; field <= 22; field++) {
    while (*p == ' ') p++;
    if (!*p) return 0;
    if (field == 22) return strtoull(p, NULL, 10);
    while (*p && *p != ' ') p++;
  }
  return 0;
}

int ns_open_of_child(pid_t pid, pid_t parent, struct ns_fds *ns, struct shim_err *e) {
  if (parent <= 0) return ns_open(pid, ns, e);
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return shim_fail_code(e, SHIM_EXIT_OTHER, errno, "the container's init %d is gone (pidfd_open)", (int)pid);
  pid_t found = proc_parent_of(pid);
  if (found != parent)
    return shim_fail_code(e, SHIM_EXIT_OTHER, ESRCH, "the container's init is gone: process %d is not its init (its parent is %d, not its shim %d)", (int)pid, (int)found,
                          (int)parent);
  if (ns_open(pid, ns, e) < 0) return -1;
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
    int err = errno;
    ns_close(ns);
    return shim_fail_code(e, SHIM_EXIT_OTHER, err, "the container's init %d is gone", (int)pid);
  }
  return 0;
}

int ns_join_for_fork(const struct ns_fds *ns, pid_t pid, struct shim_err *e) {
  const struct {
    int fd;
    int type;
    const char *name;
  } order[] = {{ns->ipc, CLONE_NEWIPC, "ipc"}, {ns->uts, CLONE_NEWUTS, "uts"}, {ns->net, CLONE_NEWNET, "net"}, {ns->pid, CLONE_NEWPID, "pid"}};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (setns(order[i].fd, order[i].type) < 0) return shim_fail(e, errno, "setns /proc/%d/ns/%s", (int)pid, order[i].name);
  return 0;
}

void ns_close(struct ns_fds *ns) {
  int *fds[] = {&ns->ipc, &ns->uts, &ns->net, &ns->pid, &ns->cgroup, &ns->mnt, &ns->root};
  for (size_t i = 0; i < 7; i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
}
