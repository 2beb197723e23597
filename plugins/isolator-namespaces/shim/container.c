#include "container.h"

#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup-devices.h"
#include "exec.h"
#include "namespaces/extra-mounts.h"
#include "namespaces/rootfs.h"
#include "namespaces/userns.h"
#include "timing.h"
#include "user.h"

int child_pipes_open(struct child_pipes *p, struct shim_err *e) {
  int s[2], r[2];
  if (pipe2(s, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 sync");
  if (pipe2(r, O_CLOEXEC) < 0) {
    close(s[0]);
    close(s[1]);
    return shim_fail(e, errno, "pipe2 error report");
  }
  *p = (struct child_pipes){.sync_rd = s[0], .sync_wr = s[1], .err_rd = r[0], .err_wr = r[1], .go_rd = -1, .go_wr = -1};
  return 0;
}

int child_go_open(struct child_pipes *p, struct shim_err *e) {
  int g[2];
  if (pipe2(g, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 go");
  p->go_rd = g[0];
  p->go_wr = g[1];
  return 0;
}

void child_pipes_close(struct child_pipes *p) {
  close_fd(&p->sync_rd);
  close_fd(&p->sync_wr);
  close_fd(&p->err_rd);
  close_fd(&p->err_wr);
  close_fd(&p->go_rd);
  close_fd(&p->go_wr);
}

void child_report_and_exit(struct child_pipes *p, const struct shim_err *e) {
  ssize_t n = write(p->err_wr, e, sizeof *e);
  (void)n;
  _exit(e->code ? e->code : SHIM_EXIT_OTHER);
}

/* The shim blocks signals for its signalfd and ignores SIGPIPE: undo both for the process. */
static int reset_signals(struct shim_err *e) {
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) return shim_fail(e, errno, "sigprocmask");
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  return 0;
}

static int wait_release(struct child_pipes *p, struct shim_err *e) {
  close_fd(&p->sync_wr);
  close_fd(&p->err_rd);
  close_fd(&p->go_wr);
  char c;
  ssize_t n;
  do n = read(p->sync_rd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) return shim_fail_code(e, SHIM_EXIT_OTHER, EPIPE, "read sync pipe: shim went away");
  close_fd(&p->sync_rd);
  return 0;
}

/* A run with a hold: set up, the child waits here, before its command, until the daemon's part
 * (the network, wired meanwhile) is done. EOF: the start was ended (the shim kills the child then). */
static int wait_go(struct child_pipes *p, struct shim_err *e) {
  if (p->go_rd < 0) return 0;
  char c;
  ssize_t n;
  do n = read(p->go_rd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) return shim_fail_code(e, SHIM_EXIT_OTHER, ECANCELED, "the start was ended before the command ran");
  close_fd(&p->go_rd);
  shim_mark("child-go");
  return 0;
}

static void loopback_up(void) {
  cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return;
  ifr.ifr_flags |= IFF_UP;
  (void)ioctl(fd, SIOCSIFFLAGS, &ifr);
}

/* Shared tail of run and exec: user, cwd (run makes a missing one, as Docker; exec does not),
 * capabilities, the seccomp filter, no_new_privs when asked, execve.
 *
 * When the filter is loaded (as runc): without no_new_privs the kernel lets only a holder of
 * CAP_SYS_ADMIN load one, so it is loaded while the process still has the shim's capabilities,
 * after the bounding set is cut and before the user switch and the container's own set (a
 * default container lacks CAP_SYS_ADMIN); with no_new_privs (--security-opt no-new-privileges),
 * last, after the command was looked up, so that only execve runs under it. */
static int finish_and_exec(const struct spec *s, int make_cwd, int userns_fd, struct shim_err *e) {
  struct user_ids u;
  if (user_resolve(s->user, &u, e) < 0) return -1;
  const char *cwd = s->cwd && *s->cwd ? s->cwd : "/";
  if (make_cwd && mkdir_p(cwd, 0755, e) < 0) return -1;
  if (chdir(cwd) < 0) {
    int err = errno;
    return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, err, "chdir to cwd (\"%s\") failed: %s", cwd, strerror(err));
  }
  /* Into the container's user namespace (--userns-remap) as its root, then to the image's user. */
  if (userns_fd >= 0 && userns_enter(userns_fd, e) < 0) return -1;
  shim_mark("pre-caps");
  int nnp = s->security.no_new_privs;
  uint64_t caps = security_caps(&s->security);
  if (caps_drop_bounding(caps, e) < 0) return -1;
  if (!nnp && seccomp_apply(&s->seccomp, e) < 0) return -1;
  if (user_switch(&u, e) < 0) return -1;
  if (caps_set_final(u.uid, caps, e) < 0) return -1;
  /* Killing the shim (rm -f) takes the process with it; set after the uid change, which clears it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return shim_fail(e, errno, "prctl PR_SET_PDEATHSIG");
  struct strv env = {0};
  char home[PATH_MAX + 8], resolved[PATH_MAX];
  if (build_env(&s->env, u.home, &env, home, sizeof home) < 0) return shim_fail(e, ENOMEM, "environment");
  int failed = exec_resolve(s->args.items, env.items, resolved, e) < 0;
  /* Last before execve: from here on, only what the container's profile allows. */
  if (!failed && nnp) failed = set_no_new_privs(e) < 0 || seccomp_apply(&s->seccomp, e) < 0;
  shim_mark("execve");
  if (!failed) exec_resolved(resolved, s->args.items, env.items, e);
  free(env.items);
  return -1;
}

/* In the container's namespaces, as the host's root: the root file system and the masks, hostname, lo. */
static int setup_namespaces(const struct spec *s, struct shim_err *e) {
  if (rootfs_setup(s, e) < 0 || extra_mounts_after_pivot(&s->security, s->cwd, e) < 0) return -1;
  shim_mark("rootfs-done");
  if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
    return shim_fail(e, errno, "sethostname %s", s->hostname);
  if (strcmp(s->netns, "new") == 0) loopback_up();
  return 0;
}

int container_init(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int net_fd, struct shim_err *e) {
  if (reset_signals(e) < 0 || stdio_install(io, e) < 0) return -1;
  if (net_fd >= 0 && setns(net_fd, CLONE_NEWNET) < 0) return shim_fail(e, errno, "setns the network namespace %s", s->netns);
  if (wait_release(p, e) < 0) return -1;
  shim_mark("child-released");
  /* Now in its cgroups: a new cgroup namespace makes them its root. */
  if (unshare(CLONE_NEWCGROUP) < 0) return shim_fail(e, errno, "unshare CLONE_NEWCGROUP");
  if (setup_namespaces(s, e) < 0) return -1;
  /* A tty from the container's own devpts, so that /dev/pts/N exists inside (ttyname, `tty`). */
  if (stdio_install_console(io, s->rows, s->cols, e) < 0) return -1;
  if (wait_go(p, e) < 0) return -1;
  return finish_and_exec(s, 1, s->userns_fd, e);
}

int remap_pipes_open(struct remap_pipes *r, struct shim_err *e) {
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 setup");
  if (pipe2(b, O_CLOEXEC) < 0) {
    close(a[0]);
    close(a[1]);
    return shim_fail(e, errno, "pipe2 setup");
  }
  *r = (struct remap_pipes){.ready_rd = a[0], .ready_wr = a[1], .done_rd = b[0], .done_wr = b[1]};
  return 0;
}

void remap_pipes_close(struct remap_pipes *r) {
  close_fd(&r->ready_rd);
  close_fd(&r->ready_wr);
  close_fd(&r->done_rd);
  close_fd(&r->done_wr);
}

/* One byte from fd: 0, or -1 at EOF (the other side went away). */
static int read_byte(int fd) {
  char c;
  ssize_t n;
  do n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

int container_init_remapped(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, struct remap_pipes *r, struct shim_err *e) {
  close_fd(&r->ready_rd);
  close_fd(&r->done_wr);
  if (reset_signals(e) < 0 || stdio_install(io, e) < 0) return -1;
  if (wait_release(p, e) < 0) return -1;
  shim_mark("child-released");
  /* Now in its cgroups: a new cgroup namespace makes them its root (and is its user namespace's). */
  if (unshare(CLONE_NEWCGROUP) < 0) return shim_fail(e, errno, "unshare CLONE_NEWCGROUP");
  if (write(r->ready_wr, "r", 1) != 1) return shim_fail(e, errno, "write the setup pipe");
  close_fd(&r->ready_wr);
  /* The setup reported its own error: nothing to add. */
  if (read_byte(r->done_rd) < 0) _exit(SHIM_EXIT_OTHER);
  close_fd(&r->done_rd);
  /* The namespace's root (the range's first host ids), as userns_enter makes an exec. */
  if (setresgid(0, 0, 0) < 0) return shim_fail(e, errno, "setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) return shim_fail(e, errno, "setresuid 0 in the user namespace");
  if (stdio_install_console(io, s->rows, s->cols, e) < 0) return -1;
  if (wait_go(p, e) < 0) return -1;
  return finish_and_exec(s, 1, -1, e);
}

int container_setup_remapped(const struct spec *s, pid_t init, struct remap_pipes *r, struct shim_err *e) {
  close_fd(&r->ready_wr);
  close_fd(&r->done_rd);
  if (read_byte(r->ready_rd) < 0) return 1;
  close_fd(&r->ready_rd);
  if (userns_join_init(init, e) < 0 || setup_namespaces(s, e) < 0) return -1;
  if (write(r->done_wr, "d", 1) != 1) return shim_fail(e, errno, "write the setup pipe");
  close_fd(&r->done_wr);
  return 0;
}

int exec_child(const struct spec *s, struct stdio_fds *io, struct child_pipes *p, int cgroup_ns, int mnt_ns, int root_fd,
               struct shim_err *e) {
  if (reset_signals(e) < 0 || stdio_install(io, e) < 0) return -1;
  if (wait_release(p, e) < 0) return -1;
  if (cgroup_ns >= 0 && setns(cgroup_ns, CLONE_NEWCGROUP) < 0) return shim_fail(e, errno, "setns cgroup of pid %d", (int)s->pid);
  /* Its user namespace, if it has one: found through the host's /proc, entered after the mount
   * namespace (which needs our host capabilities) and before the chroot (a chrooted setns is refused). */
  cleanup_close int userns = userns_of(s->pid, e);
  if (userns == -1) return -1;
  if (setns(mnt_ns, CLONE_NEWNS) < 0) return shim_fail(e, errno, "setns mnt of pid %d", (int)s->pid);
  if (userns >= 0 && userns_enter(userns, e) < 0) return -1;
  /* setns put the root at the namespace's root mount; the container's root is the init's. */
  if (fchdir(root_fd) < 0 || chroot(".") < 0) return shim_fail(e, errno, "enter the root of pid %d", (int)s->pid);
  return finish_and_exec(s, 0, -1, e);
}

int child_release(struct child_pipes *p, struct shim_err *e) {
  close_fd(&p->sync_rd);
  close_fd(&p->err_wr);
  close_fd(&p->go_rd);
  char c = 1;
  if (write(p->sync_wr, &c, 1) != 1) return shim_fail(e, errno, "write sync pipe");
  close_fd(&p->sync_wr);
  return 0;
}

int child_go(struct child_pipes *p, struct shim_err *e) {
  char c = 1;
  if (write(p->go_wr, &c, 1) != 1) return shim_fail(e, errno, "write the go pipe");
  close_fd(&p->go_wr);
  return 0;
}

int child_wait_exec(struct child_pipes *p, struct shim_err *e) {
  struct shim_err child_err;
  size_t got = 0;
  while (got < sizeof child_err) {
    ssize_t n = read(p->err_rd, (char *)&child_err + got, sizeof child_err - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close_fd(&p->err_rd);
  if (got == 0) return 0;
  if (got < sizeof child_err) return shim_fail_code(e, SHIM_EXIT_OTHER, EPIPE, "container process died during setup");
  child_err.msg[sizeof child_err.msg - 1] = '\0';
  *e = child_err;
  return 1;
}

int child_reported(struct child_pipes *p, struct shim_err *e) {
  struct pollfd pending = {.fd = p->err_rd, .events = POLLIN};
  int ready;
  do ready = poll(&pending, 1, 0);
  while (ready < 0 && errno == EINTR);
  /* An error is written whole (smaller than PIPE_BUF): readable means all of it, or the pipe's end. */
  if (ready <= 0 || !(pending.revents & (POLLIN | POLLHUP))) return 0;
  struct shim_err child = {.code = SHIM_EXIT_OTHER};
  if (child_wait_exec(p, &child) != 1) return 0;
  *e = child;
  return 1;
}

int cgroups_join(const struct spec *s, pid_t pid, struct shim_err *e) {
  for (size_t i = 0; i < s->cgroups.n; i++) {
    char path[PATH_MAX + 16], buf[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", s->cgroups.items[i]);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return shim_fail(e, errno, "open %s", path);
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    if (write(fd, buf, (size_t)n) != n) return shim_fail(e, errno, "write %s", path);
  }
  shim_mark("cgroups-joined");
  /* cgroup v2 has no devices file: the device rules become a program on the cgroup (run only: an exec's spec has none). */
  return cgroup_devices_attach(s, e);
}
