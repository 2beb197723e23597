/* mini-docker-shim: one per container (run) or per exec. See docs/shim.md. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "namespaces/join.h"
#include "namespaces/userns.h"
#include "err.h"
#include "exec-mode.h"
#include "run.h"
#include "signal-mode.h"
#include "spec.h"
#include "stdio-fds.h"
#include "timing.h"

static int write_all(int fd, const char *buf, size_t len) {
  while (len) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The one line the daemon waits for: "ok <shimPid> <initPid>" or "error <code> <message>". */
static void report_error(int fd, const struct shim_err *e) {
  char line[sizeof e->msg + 32];
  int n = snprintf(line, sizeof line, "error %d %s", e->code ? e->code : 125, e->msg);
  for (int i = 0; i < n; i++)
    if (line[i] == '\n') line[i] = ' ';
  line[n++] = '\n';
  write_all(fd, line, (size_t)n);
}

static int write_pid_file(const char *bundle, pid_t pid, struct shim_err *e) {
  char path[PATH_MAX + 16], buf[32];
  snprintf(path, sizeof path, "%s/shim.pid", bundle);
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return shim_fail(e, errno, "open %s", path);
  int n = snprintf(buf, sizeof buf, "%d\n", (int)pid);
  if (write_all(fd, buf, (size_t)n) < 0) return shim_fail(e, errno, "write %s", path);
  return 0;
}

/* Holds the init (in its namespaces and cgroups, released into its setup, before its command)
 * until the daemon has done its part (the network step: its interfaces, inside the namespace):
 * "held <init pid> <shim pid>" on the report pipe, then one line on go_fd, "go" to go on; anything else, or EOF
 * (the daemon died), ends the start. The init's pid cannot be reused meanwhile: the shim reaps it
 * only after this returns. */
static int hold_for_daemon(int report_fd, int go_fd, pid_t init_pid, struct shim_err *e) {
  char line[64];
  int n = snprintf(line, sizeof line, "held %d %d\n", (int)init_pid, (int)getpid());
  if (write_all(report_fd, line, (size_t)n) < 0) return shim_fail(e, errno, "write the held report");
  shim_mark("held-written");
  size_t len = 0;
  while (len < sizeof line - 1) {
    ssize_t r = read(go_fd, line + len, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || line[len] == '\n') break;
    len++;
  }
  line[len] = '\0';
  if (strcmp(line, "go") == 0) return 0;
  return shim_fail_code(e, SHIM_EXIT_OTHER, ECANCELED, "the daemon ended the start before the command ran%s%s", len ? ": " : "", line);
}

/* A run with a hold: the init sets up (mounts, pivot, hostname) while the daemon wires its
 * network, and waits for the go pipe before its command. When the daemon ends the start, or the go
 * cannot be given, the init is killed; if it had failed first (its setup), its own error is the
 * one reported, since the daemon's part then failed because of it (its namespace was gone). Only an
 * error already reported before the kill counts: a remapped init's setup (another process, in its
 * PID namespace) can fail because of the kill (the init's namespaces gone under it) and report that
 * before the kernel ends it too, which would hide the daemon's real error behind its consequence. */
static int hold_then_go(int report_fd, int go_fd, pid_t init_pid, struct child_pipes *cp, struct shim_err *e) {
  if (hold_for_daemon(report_fd, go_fd, init_pid, e) == 0 && child_go(cp, e) == 0) return 0;
  struct shim_err child = {.code = SHIM_EXIT_OTHER};
  int failed_first = child_reported(cp, &child) == 1;
  kill(init_pid, SIGKILL);
  if (failed_first) *e = child;
  return -1;
}

/* `netns-of <pid> <parent>` (--network container:NAME): the network namespace of that container's
 * init, which must be the child of its shim. A pidfd is taken first; the parent read and the
 * namespace opened after it are that process's when it still runs afterwards (a pid is not reused
 * while its process runs), so a pid reused since the other container's init died is refused
 * instead of joined (it could be a host process's, in the host's namespace). */
static int open_netns_of(pid_t pid, pid_t parent, struct shim_err *e) {
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return shim_fail(e, errno, "the container whose network namespace this one joins is gone (pidfd_open %d)", (int)pid);
  pid_t found = proc_parent_of(pid);
  if (found != parent)
    return shim_fail_code(e, SHIM_EXIT_OTHER, ESRCH, "the container whose network namespace this one joins is gone: process %d is not its init (its parent is %d, not its shim %d)",
                          (int)pid, (int)found, (int)parent);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return shim_fail(e, errno, "open the network namespace %s", path);
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
    int err = errno;
    close(fd);
    return shim_fail(e, err, "the container whose network namespace this one joins is gone (process %d)", (int)pid);
  }
  return fd;
}

/* Forks the container's init in new namespaces (without a user namespace). */
static pid_t clone_init(int new_net, struct shim_err *e) {
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | (new_net ? CLONE_NEWNET : 0) | SIGCHLD,
                             NULL, NULL, NULL, 0);
  if (pid < 0) shim_fail(e, errno, "clone container init");
  return pid;
}

/* What a remapped init (forked by the user namespace helper) needs of serve_container's. */
struct remapped_init {
  const struct spec *s;
  struct stdio_fds *io;
  struct child_pipes *cp;
  struct remap_pipes *rp;
  int report_fd, go_fd;
};

static void run_remapped_init(void *arg) {
  struct remapped_init *a = arg;
  struct shim_err e = {.code = SHIM_EXIT_OTHER};
  close(a->report_fd);
  if (a->go_fd >= 0) close(a->go_fd);
  container_init_remapped(a->s, a->io, a->cp, a->rp, &e);
  child_report_and_exit(a->cp, &e);
}

/* The host's side of a remapped init's setup: a child of the shim in the init's PID namespace (so
 * the /proc it mounts is the container's), holding only the error pipe's write end. */
static pid_t fork_setup(const struct remapped_init *a, pid_t init, struct shim_err *e) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)init);
  cleanup_close int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  cleanup_close int theirs = open(path, O_RDONLY | O_CLOEXEC);
  if (own < 0 || theirs < 0) return shim_fail(e, errno, "open the PID namespaces of the shim and of %s", path);
  if (setns(theirs, CLONE_NEWPID) < 0) return shim_fail(e, errno, "setns %s", path);
  pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
  if (pid == 0) {
    close(a->report_fd);
    if (a->go_fd >= 0) close(a->go_fd);
    close_fd(&a->cp->sync_rd);
    close_fd(&a->cp->sync_wr);
    close_fd(&a->cp->err_rd);
    close_fd(&a->cp->go_rd);
    close_fd(&a->cp->go_wr);
    stdio_close(a->io);
    int r = container_setup_remapped(a->s, init, a->rp, e);
    if (r < 0) child_report_and_exit(a->cp, e);
    _exit(0);
  }
  int err = errno;
  (void)setns(own, CLONE_NEWPID); /* the shim's later children are not the container's */
  if (pid < 0) return shim_fail(e, err, "clone the setup of the container's init");
  return pid;
}

static int forwarded_signals(sigset_t *set) {
  sigemptyset(set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(set, sigs[i]);
  return 0;
}

static void remove_bundle_file(const char *bundle, const char *name) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", bundle, name);
  unlink(path);
}

/* The detached shim: starts the init, reports on report_fd, then serves until the exit is delivered. */
static int serve_container(struct spec *s, const char *bundle, int report_fd, int go_fd) {
  struct shim_err e = {.code = SHIM_EXIT_OTHER};
  struct stdio_fds io = STDIO_FDS_NONE;
  struct child_pipes cp = {-1, -1, -1, -1, -1, -1};
  sigset_t mask;
  forwarded_signals(&mask);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  cleanup_close int lfd = -1;
  pid_t shim_pid = getpid(), init_pid = -1;
  /* The network namespace: a new one, the host's, or one to join (--network container:NAME). */
  int new_net = strcmp(s->netns, "new") == 0;
  cleanup_close int net_fd = -1;
  /* --userns-remap: the init is made in namespaces its user namespace owns, and set up from outside. */
  int remap = s->userns_size > 0;
  struct remap_pipes rp = {-1, -1, -1, -1};
  struct remapped_init ri = {.s = s, .io = &io, .cp = &cp, .rp = &rp, .report_fd = report_fd, .go_fd = go_fd};
  pid_t setup_pid = -1;

  if (sfd < 0) shim_fail(&e, errno, "signalfd");
  else if (write_pid_file(bundle, shim_pid, &e) < 0) {
  } else if ((lfd = run_listen(bundle, &e)) < 0) {
  } else if (stdio_create(&io, s->tty, s->stdin_open, -1, s->rows, s->cols, &e) < 0) {
  } else if (child_pipes_open(&cp, &e) < 0) {
  } else if (s->hold && child_go_open(&cp, &e) < 0) {
  } else if (s->netns[0] == '/' && (net_fd = open(s->netns, O_RDONLY | O_CLOEXEC)) < 0) {
    shim_fail(&e, errno, "open the network namespace %s", s->netns);
  } else if (s->netns_pid > 0 && (net_fd = open_netns_of(s->netns_pid, s->netns_parent, &e)) < 0) {
  } else if (remap && remap_pipes_open(&rp, &e) < 0) {
  } else if (remap && (init_pid = userns_fork_init(s, new_net, net_fd, &s->userns_fd, run_remapped_init, &ri, &e)) < 0) {
  } else if (remap && (setup_pid = fork_setup(&ri, init_pid, &e)) < 0) {
    kill(init_pid, SIGKILL);
    waitpid(init_pid, NULL, 0);
  } else if (!remap && (init_pid = clone_init(new_net, &e)) < 0) {
  } else if (init_pid == 0) {
    close(report_fd);
    if (go_fd >= 0) close(go_fd);
    container_init(s, &io, &cp, net_fd, &e);
    child_report_and_exit(&cp, &e);
  } else {
    remap_pipes_close(&rp); /* the init's and its setup's now */
    shim_mark("cloned");
    stdio_close_child_side(&io);
    int failed = cgroups_join(s, init_pid, &e) < 0 || child_release(&cp, &e) < 0 ||
                 (s->hold && hold_then_go(report_fd, go_fd, init_pid, &cp, &e) < 0) || stdio_receive_console(&io, &e) < 0;
    if (go_fd >= 0) close(go_fd);
    if (failed) kill(init_pid, SIGKILL);
    shim_mark("released");
    int started = !failed && child_wait_exec(&cp, &e) == 0;
    shim_mark("exec-seen");
    /* The setup is over (it closed the error pipe, or the init is gone). Reaped first: an init that
     * is the first process of its PID namespace does not finish exiting before every other
     * process of it (the setup) has been reaped. */
    if (setup_pid > 0) waitpid(setup_pid, NULL, 0);
    if (started && io.tty && io.out < 0) {
      started = 0;
      shim_fail_code(&e, SHIM_EXIT_OTHER, EPIPE, "the container process sent no terminal");
      kill(init_pid, SIGKILL);
    }
    if (started) {
      char line[64];
      int n = snprintf(line, sizeof line, "ok %d %d\n", (int)shim_pid, (int)init_pid);
      write_all(report_fd, line, (size_t)n);
      close(report_fd);
      child_pipes_close(&cp);
      struct run_ctx ctx = {.spec = s, .bundle = bundle, .shim_pid = shim_pid, .init_pid = init_pid, .signal_fd = sfd, .listen_fd = lfd, .io = &io};
      int r = run_serve(&ctx, &e);
      stdio_close(&io);
      remove_bundle_file(bundle, "shim.sock");
      return r < 0 ? 1 : 0;
    }
    waitpid(init_pid, NULL, 0);
  }
  /* Clean the bundle before reporting: the daemon may look at it as soon as it reads the line. */
  remap_pipes_close(&rp);
  child_pipes_close(&cp);
  stdio_close(&io);
  if (lfd >= 0) remove_bundle_file(bundle, "shim.sock");
  remove_bundle_file(bundle, "shim.pid");
  report_error(report_fd, &e);
  close(report_fd);
  return e.code;
}

/* Relays the detached shim's report to our stdout as it comes ("held <init pid> <shim pid>" lines, then the last
 * line); exits 0 for ok, the error code otherwise. */
static int relay_report(int report_rd) {
  char line[1024];
  size_t len = 0, last = 0;
  ssize_t n;
  while ((n = read(report_rd, line + len, sizeof line - 1 - len)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    write_all(1, line + len, (size_t)n);
    len += (size_t)n;
    /* Keep only the line being written: the last one decides the exit code. */
    for (size_t i = last; i < len; i++)
      if (line[i] == '\n' && i + 1 < len) last = i + 1;
    if (last > 0) {
      memmove(line, line + last, len - last);
      len -= last;
      last = 0;
    }
    if (len >= sizeof line - 1) break;
  }
  line[len] = '\0';
  if (len == 0) {
    const char *msg = "error 125 shim died before reporting\n";
    write_all(1, msg, strlen(msg));
    return 125;
  }
  return strncmp(line, "ok ", 3) == 0 ? 0 : atoi(line + 6) ? atoi(line + 6) : 125;
}

static int redirect_stdio_to_null(void) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  for (int i = 0; i < 3; i++) dup2(fd, i);
  if (fd > 2) close(fd);
  return 0;
}

static int run_mode(const char *bundle_arg) {
  struct shim_err e = {0};
  char bundle[PATH_MAX];
  struct spec s;
  char spec_path[PATH_MAX + 8];
  syscall(SYS_close_range, 3U, ~0U, 0U); /* nothing of the daemon's leaks into the container */
  shim_timing_open();
  shim_mark("shim-main");
  if (!realpath(bundle_arg, bundle)) {
    shim_fail(&e, errno, "realpath %s", bundle_arg);
    report_error(1, &e);
    return e.code;
  }
  snprintf(spec_path, sizeof spec_path, "%s/spec", bundle);
  if (spec_load(&s, spec_path, &e) < 0) {
    report_error(1, &e);
    spec_free(&s);
    return e.code;
  }
  shim_mark("spec-loaded");
  /* The daemon's "go" comes on our stdin; the detached shim keeps it apart from its stdio. */
  int go_fd = s.hold ? fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
  if (s.hold && go_fd < 0) {
    shim_fail(&e, errno, "dup stdin for the hold");
    report_error(1, &e);
    spec_free(&s);
    return e.code;
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) {
    shim_fail(&e, errno, "pipe2 report");
    report_error(1, &e);
    return e.code;
  }
  pid_t middle = fork();
  if (middle < 0) {
    shim_fail(&e, errno, "fork");
    report_error(1, &e);
    return e.code;
  }
  if (middle > 0) {
    close(report[1]);
    if (go_fd >= 0) close(go_fd);
    waitpid(middle, NULL, 0);
    int code = relay_report(report[0]);
    spec_free(&s);
    return code;
  }
  /* Double fork with a new session: the shim is not the daemon's child and survives its death. */
  close(report[0]);
  setsid();
  pid_t shim = fork();
  if (shim != 0) _exit(shim < 0 ? 1 : 0);
  redirect_stdio_to_null();
  umask(022);
  if (chdir("/") < 0) return 1;
  int code = serve_container(&s, bundle, report[1], go_fd);
  spec_free(&s);
  return code;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "run") == 0) return run_mode(argv[2]);
  if (argc == 3 && strcmp(argv[1], "exec") == 0) return exec_mode_main(argv[2]);
  if (argc == 5 && strcmp(argv[1], "signal") == 0) return signal_mode(argv[2], argv[3], argv[4]);
  if ((argc == 6 || argc == 7) && strcmp(argv[1], "signal-in") == 0) return signal_in_mode(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
  if (argc == 5 && strcmp(argv[1], "end") == 0) return end_mode(argv[2], argv[3], argv[4]);
  fprintf(stderr,
          "usage: mini-docker-shim run <bundle-dir> | exec <spec-file> | signal <pid> <parent pid> <signal> | signal-in <pid> <init pid> <init's parent pid> <signal> [<start time>] | "
          "end <run|exec> <path> <children 0|1>\n");
  return 2;
}
