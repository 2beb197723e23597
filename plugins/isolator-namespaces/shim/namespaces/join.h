/* Exec mode: the namespaces of a running container, opened from /proc/<pid>/ns before any is
 * joined, and its root directory (/proc/<pid>/root): joining the mount namespace sets the root to
 * that namespace's root mount, which is the container's root only when the daemon's own root was
 * its namespace's root (not in a chroot); the child moves into the init's root after setns. */
#pragma once
#include <sys/types.h>

#include "err.h"

struct ns_fds {
  int ipc, uts, net, pid, cgroup, mnt, root;
};

int ns_open(pid_t pid, struct ns_fds *ns, struct shim_err *e);
/* ns_open of a container's init that must still be the child of its shim `parent`: a pidfd is taken
 * first, the parent read and the namespaces opened, then the pidfd must still reach a running
 * process; a pid is not reused while its process runs, so a pid reused since the init died (a host
 * process's, in the host's namespaces) is refused instead of joined. parent 0: ns_open alone. */
int ns_open_of_child(pid_t pid, pid_t parent, struct ns_fds *ns, struct shim_err *e);
/* One read of /proc/<pid>/<name> into buf (NUL-terminated): its length, or -1 when it cannot be read or is empty. */
ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t size);
/* The parent pid in /proc/<pid>/status, or -1. */
pid_t proc_parent_of(pid_t pid);
/* When the process started, in clock ticks after boot (/proc/<pid>/stat field 22), or 0 when it is
 * unreadable. With the pid it names one process for good: a later process on the same pid started later. */
unsigned long long proc_start_time_of(pid_t pid);
/* Joins ipc, uts, net and pid (the pid one applies to children forked afterwards). The child
 * joins cgroup and mnt itself after the shim put it into the container's cgroups. */
int ns_join_for_fork(const struct ns_fds *ns, pid_t pid, struct shim_err *e);
void ns_close(struct ns_fds *ns);
