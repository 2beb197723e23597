#include "signal-mode.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "namespaces/join.h"

enum { SIGNAL_SENT = 0, SIGNAL_FAILED = 1, SIGNAL_USAGE = 2, SIGNAL_NOT_OURS = 3 };

static int pidfd_open_of(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A positive number from an argument, or -1. */
static long positive(const char *arg) {
  char *end;
  long v = strtol(arg, &end, 10);
  return *arg && !*end && v > 0 ? v : -1;
}

/* Through pidfd, with the exit code of the modes: ESRCH (the process ended) is "not ours". */
static int send_through(int pidfd, long pid, long sig, const char *mode) {
  if (pidfd_signal(pidfd, (int)sig) == 0) return SIGNAL_SENT;
  if (errno == ESRCH) return SIGNAL_NOT_OURS;
  fprintf(stderr, "mini-docker-shim %s: signal %ld to %ld: %s\n", mode, sig, pid, strerror(errno));
  return SIGNAL_FAILED;
}

static int open_failed(long pid, const char *mode) {
  if (errno == ESRCH) return SIGNAL_NOT_OURS;
  fprintf(stderr, "mini-docker-shim %s: pidfd_open %ld: %s\n", mode, pid, strerror(errno));
  return SIGNAL_FAILED;
}

int signal_mode(const char *pid_arg, const char *parent_arg, const char *signal_arg) {
  long pid = positive(pid_arg), parent = positive(parent_arg), sig = positive(signal_arg);
  if (pid < 0 || parent < 0 || sig < 0 || sig >= NSIG) {
    fprintf(stderr, "mini-docker-shim signal: want <pid> <parent pid> <signal number>\n");
    return SIGNAL_USAGE;
  }
  cleanup_close int pidfd = pidfd_open_of((pid_t)pid);
  if (pidfd < 0) return open_failed(pid, "signal");
  if (proc_parent_of((pid_t)pid) != (pid_t)parent) return SIGNAL_NOT_OURS;
  return send_through(pidfd, pid, sig, "signal");
}

/* The PID namespace of pid, as the (device, inode) of /proc/<pid>/ns/pid; -1 when it is gone. */
static int pid_namespace_of(pid_t pid, struct stat *st) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  return stat(path, st);
}

/* A start time argument: digits only (0 is a time no process of a container started at). */
static int start_time_arg(const char *arg, unsigned long long *out) {
  char *end;
  if (!*arg || strspn(arg, "0123456789") != strlen(arg)) return -1;
  errno = 0;
  *out = strtoull(arg, &end, 10);
  return errno || *end ? -1 : 0;
}

int signal_in_mode(const char *pid_arg, const char *init_arg, const char *parent_arg, const char *signal_arg, const char *start_arg) {
  long pid = positive(pid_arg), init = positive(init_arg), parent = positive(parent_arg), sig = positive(signal_arg);
  unsigned long long start = 0;
  if (pid < 0 || init < 0 || parent < 0 || sig < 0 || sig >= NSIG || (start_arg && start_time_arg(start_arg, &start) < 0)) {
    fprintf(stderr, "mini-docker-shim signal-in: want <pid> <init pid> <init's parent pid> <signal number> [<start time>]\n");
    return SIGNAL_USAGE;
  }
  cleanup_close int pidfd = pidfd_open_of((pid_t)pid);
  if (pidfd < 0) return open_failed(pid, "signal-in");
  /* Read after the pidfd was taken: the process's own whenever the pidfd still reaches it below. */
  if (start_arg && proc_start_time_of((pid_t)pid) != start) return SIGNAL_NOT_OURS;
  cleanup_close int initfd = pidfd_open_of((pid_t)init);
  if (initfd < 0) return open_failed(init, "signal-in");
  if (proc_parent_of((pid_t)init) != (pid_t)parent) return SIGNAL_NOT_OURS;
  struct stat theirs, ours;
  if (pid_namespace_of((pid_t)pid, &theirs) < 0 || pid_namespace_of((pid_t)init, &ours) < 0) return SIGNAL_NOT_OURS;
  if (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino) return SIGNAL_NOT_OURS;
  /* The init still runs: its parent and namespace read above were its own. */
  if (pidfd_signal(initfd, 0) < 0) return SIGNAL_NOT_OURS;
  return send_through(pidfd, pid, sig, "signal-in");
}

/* /proc/<pid>/cmdline is exactly "<...>/mini-docker-shim" mode path. */
static int is_shim_of(pid_t pid, const char *mode, const char *path) {
  char buf[8192];
  ssize_t n = proc_read(pid, "cmdline", buf, sizeof buf);
  if (n < 0) return 0;
  const char *argv0 = buf, *argv1 = argv0 + strlen(argv0) + 1;
  if (argv1 >= buf + n) return 0;
  const char *argv2 = argv1 + strlen(argv1) + 1;
  if (argv2 >= buf + n || argv2 + strlen(argv2) + 1 != buf + n) return 0;
  const char *base = strrchr(argv0, '/');
  return strcmp(base ? base + 1 : argv0, "mini-docker-shim") == 0 && strcmp(argv1, mode) == 0 && strcmp(argv2, path) == 0;
}

struct pid_list {
  pid_t *pids;
  int *fds;
  size_t len, cap;
};

static int pid_list_add(struct pid_list *l, pid_t pid, int fd) {
  if (l->len == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    pid_t *pids = realloc(l->pids, cap * sizeof *pids);
    if (!pids) return -1;
    l->pids = pids;
    int *fds = realloc(l->fds, cap * sizeof *fds);
    if (!fds) return -1;
    l->fds = fds;
    l->cap = cap;
  }
  l->pids[l->len] = pid;
  l->fds[l->len++] = fd;
  return 0;
}

static void pid_list_free(struct pid_list *l) {
  for (size_t i = 0; i < l->len; i++) close(l->fds[i]);
  free(l->pids);
  free(l->fds);
}

/* Every process of /proc for which `match(pid, arg)` holds, each held by a pidfd taken before a
 * second match (so the match is the held process's whenever its pidfd still reaches it). */
static int held_matching(int (*match)(pid_t, const void *), const void *arg, struct pid_list *out) {
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  struct dirent *d;
  while ((d = readdir(proc))) {
    long pid = positive(d->d_name);
    if (pid < 0 || pid == getpid() || !match((pid_t)pid, arg)) continue;
    int fd = pidfd_open_of((pid_t)pid);
    if (fd < 0) continue;
    if (!match((pid_t)pid, arg) || pid_list_add(out, (pid_t)pid, fd) < 0) close(fd);
  }
  closedir(proc);
  return 0;
}

struct shim_match {
  const char *mode, *path;
};

static int match_shim(pid_t pid, const void *arg) {
  const struct shim_match *m = arg;
  return is_shim_of(pid, m->mode, m->path);
}

static int match_child(pid_t pid, const void *arg) {
  return proc_parent_of(pid) == *(const pid_t *)arg;
}

int end_mode(const char *mode_arg, const char *path_arg, const char *children_arg) {
  int children = strcmp(children_arg, "1") == 0;
  if ((strcmp(mode_arg, "run") != 0 && strcmp(mode_arg, "exec") != 0) || path_arg[0] != '/' || (!children && strcmp(children_arg, "0") != 0)) {
    fprintf(stderr, "mini-docker-shim end: want <run|exec> <absolute path> <children 0|1>\n");
    return SIGNAL_USAGE;
  }
  struct shim_match m = {mode_arg, path_arg};
  struct pid_list shims = {0};
  if (held_matching(match_shim, &m, &shims) < 0) {
    fprintf(stderr, "mini-docker-shim end: read /proc: %s\n", strerror(errno));
    return SIGNAL_FAILED;
  }
  size_t killed_children = 0, killed_shims = 0;
  for (size_t i = 0; i < shims.len; i++) {
    if (children) {
      struct pid_list kids = {0};
      (void)held_matching(match_child, &shims.pids[i], &kids);
      /* The shim still runs, so the processes that named it as their parent were its children. */
      if (pidfd_signal(shims.fds[i], 0) == 0)
        for (size_t k = 0; k < kids.len; k++)
          if (pidfd_signal(kids.fds[k], SIGKILL) == 0) killed_children++;
      pid_list_free(&kids);
    }
    if (pidfd_signal(shims.fds[i], SIGKILL) == 0) killed_shims++;
  }
  /* A pidfd is readable once its process has ended (a child of another, reaped or not). */
  for (size_t i = 0; i < shims.len; i++) {
    struct pollfd p = {.fd = shims.fds[i], .events = POLLIN};
    while (poll(&p, 1, 5000) < 0 && errno == EINTR) {
    }
  }
  pid_list_free(&shims);
  printf("%zu %zu\n", killed_shims, killed_children);
  return 0;
}
