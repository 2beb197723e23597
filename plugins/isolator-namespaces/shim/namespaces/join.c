#include "namespaces/join.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
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
