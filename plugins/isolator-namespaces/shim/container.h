/* The process side: what the container init (run) and an exec'd process do between fork and execve.
 * Both return only on failure; the caller reports the error on err_fd and _exits. */
#pragma once
#include "err.h"
#include "namespaces/userns.h"
#include "spec.h"
#include "stdio-fds.h"

struct child_pipes {
  int sync_rd;  /* the parent writes one byte once the child is in its cgroups */
  int sync_wr;
  int err_rd;   /* close-on-exec: EOF means execve succeeded, a struct shim_err means it did not */
  int err_wr;
};

int child_pipes_open(struct child_pipes *p, struct shim_err *e);
void child_pipes_close(struct child_pipes *p);

/* Run mode, inside the freshly cloned namespaces. */
/* net_fd >= 0: join that network namespace (the spec's netns path) instead of the new one. */
/* net_fd: a network namespace to join, or -1; uns: with a user namespace, the namespaces it owns
 * to join (the init was forked in its PID namespace), else NULL (the clone made them). */
int container_init(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int net_fd, const struct userns_set *uns,
                   struct shim_err *e);
/* Exec mode, already in the target's ipc/uts/net/pid namespaces; joins cgroup and mount ones. */
int exec_child(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int cgroup_ns, int mnt_ns, int root_fd,
               struct shim_err *e);
/* In the child: sends e through err_wr and exits with e->code. */
void child_report_and_exit(struct child_pipes *p, const struct shim_err *e) __attribute__((noreturn));

/* Parent: release the child. Parent: wait for exec; returns 1 with e filled if the child failed. */
int child_release(struct child_pipes *p, struct shim_err *e);
int child_wait_exec(struct child_pipes *p, struct shim_err *e);
/* Writes pid into <dir>/cgroup.procs for each cgroup line. */
int cgroups_join(const struct spec *s, pid_t pid, struct shim_err *e);
