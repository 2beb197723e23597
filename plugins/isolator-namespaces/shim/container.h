/* The process side: what the container init (run) and an exec'd process do between fork and execve.
 * Both return only on failure; the caller reports the error on err_fd and _exits. */
#pragma once
#include "err.h"
#include "spec.h"
#include "stdio-fds.h"

struct child_pipes {
  int sync_rd;  /* the parent writes one byte once the child is in its cgroups */
  int sync_wr;
  int err_rd;   /* close-on-exec: EOF means execve succeeded, a struct shim_err means it did not */
  int err_wr;
  int go_rd;    /* a run with a hold: the parent writes one byte once the daemon has done its part */
  int go_wr;    /* (the network); the child sets up meanwhile and waits for it before the command. -1 without */
};

int child_pipes_open(struct child_pipes *p, struct shim_err *e);
/* The go pipe of a run with a hold (child_pipes_open leaves it at -1). */
int child_go_open(struct child_pipes *p, struct shim_err *e);
void child_pipes_close(struct child_pipes *p);

/* Run mode, inside the freshly cloned namespaces. */
/* net_fd >= 0: join that network namespace (the spec's netns path) instead of the new one. */
int container_init(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int net_fd, struct shim_err *e);

/*
 * Run mode with a user namespace (--userns-remap). The init is forked in namespaces its user
 * namespace owns (userns_fork_init), so it holds none of the host's capabilities: the setup that
 * needs them (mounts on idmapped layers, devices, pivot_root, hostname) is done by a second child
 * of the shim, the host's root, in the init's namespaces. The init, once released into its
 * cgroups, makes its cgroup namespace and says so on `ready`; the setup joins its namespaces, does
 * the setup and says so on `done` (or reports its error and exits); the init then becomes the
 * namespace's root and goes on as container_init does.
 */
struct remap_pipes {
  int ready_rd, ready_wr; /* init -> setup: its cgroup namespace is made */
  int done_rd, done_wr;   /* setup -> init: the setup is done */
};
int remap_pipes_open(struct remap_pipes *r, struct shim_err *e);
void remap_pipes_close(struct remap_pipes *r);
int container_init_remapped(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, struct remap_pipes *r, struct shim_err *e);
/* The setup's side; returns 0 when done, 1 when the init went away first (nothing to report). */
int container_setup_remapped(const struct spec *s, pid_t init, struct remap_pipes *r, struct shim_err *e);
/* Exec mode, already in the target's ipc/uts/net/pid namespaces; joins cgroup and mount ones. */
int exec_child(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int cgroup_ns, int mnt_ns, int root_fd,
               struct shim_err *e);
/* In the child: sends e through err_wr and exits with e->code. */
void child_report_and_exit(struct child_pipes *p, const struct shim_err *e) __attribute__((noreturn));

/* Parent: release the child. Parent: wait for exec; returns 1 with e filled if the child failed. */
int child_release(struct child_pipes *p, struct shim_err *e);
/* Parent, with a hold: lets the released child go on to its command. */
int child_go(struct child_pipes *p, struct shim_err *e);
int child_wait_exec(struct child_pipes *p, struct shim_err *e);
/* child_wait_exec without waiting: 1 with the error the child has already reported, 0 when it has
 * reported none yet (its pipe still open, or closed without one). */
int child_reported(struct child_pipes *p, struct shim_err *e);
/* Writes pid into <dir>/cgroup.procs for each cgroup line. */
int cgroups_join(const struct spec *s, pid_t pid, struct shim_err *e);
