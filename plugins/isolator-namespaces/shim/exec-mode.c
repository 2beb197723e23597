#include "exec-mode.h"
#include "clock.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "exit.h"
#include "io/bytes.h"
#include "namespaces/join.h"
#include "protocol.h"
#include "pty.h"
#include "spec.h"
#include "stdio-fds.h"

#define READ_CHUNK 16384
#define DRAIN_IDLE_MS 500

struct exec_loop {
  const struct spec *spec;
  struct stdio_fds *io;
  pid_t pid;
  int signal_fd;
  int frames_in; /* fd 0, -1 once the daemon closed it */
  struct bytes from_daemon, to_stdin;
  int stdin_close_requested; /* close stdin once to_stdin is written (data and close come in one read) */
  uint64_t offset;
  int exited;
  struct exit_status status;
  int64_t drain_deadline;
};

/* Frames go to fd 1 with blocking writes: the daemon is our parent and reads them. */
static int send_frames(struct bytes *b) {
  size_t off = 0;
  while (off < b->len) {
    ssize_t n = write(1, b->data + off, b->len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      bytes_reset(b);
      return -1;
    }
    off += (size_t)n;
  }
  bytes_reset(b);
  return 0;
}

static int send_failure(const struct shim_err *e) {
  struct bytes b = {0};
  char now[RFC3339_NANO_LEN];
  format_rfc3339_nano_now(now, sizeof now);
  frame_append(&b, FRAME_ERROR, e->msg, strlen(e->msg));
  frame_append_exit(&b, e->code ? e->code : SHIM_EXIT_OTHER, 0, now);
  send_frames(&b);
  bytes_free(&b);
  fprintf(stderr, "mini-docker-shim exec: %s\n", e->msg);
  return e->code ? e->code : SHIM_EXIT_OTHER;
}

static void request_stdin_close(struct exec_loop *l) {
  if (l->io->tty) bytes_append(&l->to_stdin, "\x04", 1);
  else l->stdin_close_requested = 1;
}

static void handle_frame(struct exec_loop *l, const struct frame *f) {
  struct shim_err e;
  switch (f->type) {
  case FRAME_STDIN:
    if (l->io->in >= 0 && !l->stdin_close_requested) bytes_append(&l->to_stdin, f->payload, f->len);
    break;
  case FRAME_STDIN_CLOSE:
    request_stdin_close(l);
    break;
  case FRAME_RESIZE:
    if (l->io->tty && f->len >= 4) pty_resize(l->io->out, get_be16(f->payload), get_be16(f->payload + 2), &e);
    break;
  case FRAME_SIGNAL:
    if (f->len >= 4 && !l->exited) kill(l->pid, (int)get_be32(f->payload));
    break;
  default: /* ACK and anything newer: nothing to do here */
    break;
  }
}

static void read_daemon(struct exec_loop *l) {
  uint8_t tmp[READ_CHUNK];
  ssize_t n = read(l->frames_in, tmp, sizeof tmp);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || bytes_append(&l->from_daemon, tmp, (size_t)n) < 0) {
    close_fd(&l->frames_in); /* the daemon is done sending: treat as end of stdin */
    if (!l->io->tty) close_fd(&l->io->in);
    return;
  }
  size_t pos = 0;
  struct frame f;
  int r;
  while ((r = frame_parse(l->from_daemon.data + pos, l->from_daemon.len - pos, &f)) == 1) {
    handle_frame(l, &f);
    pos += FRAME_HEADER_LEN + f.len;
  }
  if (r < 0) close_fd(&l->frames_in);
  bytes_consume(&l->from_daemon, pos);
}

static void read_output(struct exec_loop *l, int *fd, uint8_t stream) {
  uint8_t tmp[READ_CHUNK];
  ssize_t n = read(*fd, tmp, sizeof tmp);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    close_fd(fd);
    return;
  }
  struct bytes b = {0};
  if (frame_append_output_header(&b, stream, l->offset, (size_t)n) == 0 && bytes_append(&b, tmp, (size_t)n) == 0 &&
      send_frames(&b) < 0 && !l->exited)
    kill(l->pid, SIGKILL); /* nobody is listening any more */
  bytes_free(&b);
  l->offset += (uint64_t)n;
  if (l->exited) l->drain_deadline = now_ms() + DRAIN_IDLE_MS;
}

static void write_stdin(struct exec_loop *l) {
  ssize_t n = write(l->io->in, l->to_stdin.data, l->to_stdin.len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {
    bytes_reset(&l->to_stdin);
    return;
  }
  bytes_consume(&l->to_stdin, (size_t)n);
}

static void handle_signals(struct exec_loop *l) {
  struct signalfd_siginfo si;
  while (read(l->signal_fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD) {
      if (!l->exited) kill(l->pid, (int)si.ssi_signo);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != l->pid) continue;
      l->exited = 1;
      exit_status_from_wait(&l->status, status);
      l->drain_deadline = now_ms() + DRAIN_IDLE_MS;
    }
  }
}

/* What is in the pipes once the loop is done, read without waiting for more: a shim not scheduled
 * for longer than DRAIN_IDLE_MS after the exit (a loaded machine) would otherwise leave a short
 * exec's whole output unread. Bounded: a background child may keep writing. */
static void drain_ready(struct exec_loop *l) {
  for (int i = 0; i < 64 && (l->io->out >= 0 || l->io->err >= 0); i++) {
    struct pollfd p[2] = {{.fd = l->io->out, .events = POLLIN}, {.fd = l->io->err, .events = POLLIN}};
    if (poll(p, 2, 0) <= 0) return;
    if (p[0].revents) read_output(l, &l->io->out, STREAM_STDOUT);
    if (p[1].revents) read_output(l, &l->io->err, STREAM_STDERR);
  }
}

enum { P_SIG, P_DAEMON, P_OUT, P_ERR, P_IN, P_COUNT };

static int serve(struct exec_loop *l) {
  struct stdio_fds *io = l->io;
  for (int *fd = &io->out; fd <= &io->in; fd++)
    if (*fd >= 0) fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
  /* Done once the process exited and its output hit EOF, or went quiet (background children of
   * the exec'd process may hold the pipes: the container's pid namespace outlives them). */
  while (!l->exited || ((io->out >= 0 || io->err >= 0) && now_ms() < l->drain_deadline)) {
    struct pollfd p[P_COUNT] = {
        [P_SIG] = {.fd = l->signal_fd, .events = POLLIN},
        [P_DAEMON] = {.fd = l->frames_in, .events = POLLIN},
        [P_OUT] = {.fd = io->out, .events = POLLIN},
        [P_ERR] = {.fd = io->err, .events = POLLIN},
        [P_IN] = {.fd = l->to_stdin.len ? io->in : -1, .events = POLLOUT},
    };
    int timeout = l->exited ? (int)(l->drain_deadline - now_ms()) : -1;
    if (poll(p, P_COUNT, l->exited && timeout < 0 ? 0 : timeout) < 0 && errno != EINTR) return -1;
    if (p[P_SIG].revents) handle_signals(l);
    if (p[P_DAEMON].revents) read_daemon(l);
    if (p[P_OUT].revents) read_output(l, &io->out, STREAM_STDOUT);
    if (p[P_ERR].revents) read_output(l, &io->err, STREAM_STDERR);
    if (p[P_IN].revents && io->in >= 0) write_stdin(l);
    if (l->stdin_close_requested && l->to_stdin.len == 0 && !io->tty) close_fd(&io->in);
  }
  drain_ready(l);
  /* The record first: a daemon that died meanwhile reads the true exit from it at recovery. */
  struct shim_err e;
  if (l->spec->exit_file && exit_record_write(l->spec->exit_file, &l->status, &e) < 0)
    fprintf(stderr, "mini-docker-shim exec: %s\n", e.msg);
  struct bytes b = {0};
  frame_append_exit(&b, l->status.code, l->status.signal, l->status.finished_at);
  send_frames(&b);
  bytes_free(&b);
  return 0;
}

int exec_mode_main(const char *spec_path) {
  struct shim_err e = {.code = SHIM_EXIT_OTHER};
  struct spec s = {0};
  struct stdio_fds io = STDIO_FDS_NONE;
  struct child_pipes cp = {-1, -1, -1, -1, -1, -1};
  struct ns_fds ns = {-1, -1, -1, -1, -1, -1, -1};
  struct bytes hello = {0};
  syscall(SYS_close_range, 3U, ~0U, 0U); /* nothing of the daemon's leaks into the container */
  int loaded = spec_load(&s, spec_path, &e) == 0;
  frame_append_hello(&hello, (uint32_t)getpid(), loaded ? (uint32_t)s.pid : 0);
  send_frames(&hello);
  bytes_free(&hello);
  if (loaded && !s.pid) loaded = shim_fail_code(&e, SHIM_EXIT_OTHER, EINVAL, "spec %s: no \"pid\" line", spec_path) == 0;
  if (!loaded) {
    spec_free(&s);
    return send_failure(&e);
  }

  sigset_t mask;
  sigemptyset(&mask);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&mask, sigs[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  int code;
  pid_t pid = -1;
  if (sfd < 0) shim_fail(&e, errno, "signalfd");
  else if (ns_open_of_child(s.pid, s.parent, &ns, &e) < 0) {
  } else if (stdio_create(&io, s.tty, s.stdin_open, ns.root, s.rows, s.cols, &e) < 0) {
  } else if (child_pipes_open(&cp, &e) < 0) {
  } else if (ns_join_for_fork(&ns, s.pid, &e) < 0) {
  } else if ((pid = fork()) < 0) {
    shim_fail(&e, errno, "fork");
  } else if (pid == 0) {
    exec_child(&s, &io, &cp, ns.cgroup, ns.mnt, ns.root, &e);
    child_report_and_exit(&cp, &e);
  } else {
    stdio_close_child_side(&io);
    int failed = cgroups_join(&s, pid, &e) < 0 || child_release(&cp, &e) < 0;
    if (failed) kill(pid, SIGKILL);
    if (!failed && child_wait_exec(&cp, &e) == 0) {
      /* The pid and its start time, read while the process is the shim's unreaped child (its pid
       * cannot be another's yet): recovery signals that pid only while it is still this process. */
      struct bytes started = {0};
      frame_append_started(&started, (uint32_t)pid, proc_start_time_of(pid));
      send_frames(&started);
      bytes_free(&started);
      struct exec_loop l = {.spec = &s, .io = &io, .pid = pid, .signal_fd = sfd, .frames_in = 0};
      code = serve(&l) < 0 ? SHIM_EXIT_OTHER : l.status.code;
      bytes_free(&l.from_daemon);
      bytes_free(&l.to_stdin);
      goto out;
    }
    waitpid(pid, NULL, 0);
  }
  code = send_failure(&e);
out:
  child_pipes_close(&cp);
  stdio_close(&io);
  ns_close(&ns);
  spec_free(&s);
  return code;
}
