#include "run.h"
#include "clock.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "exit.h"
#include "io/buffer.h"
#include "io/bytes.h"
#include "protocol.h"
#include "pty.h"

#define READ_CHUNK 16384
#define CLIENT_QUEUE_HIGH (64 * 1024)
#define STDIN_QUEUE_HIGH (1024 * 1024)
#define EXIT_GRACE_MS 2000
#define EOF_GRACE_MS 5000

/* Everything the loop tracks, owned by run_serve's stack frame. */
struct loop {
  struct run_ctx *ctx;
  struct out_buffer buf;
  int client;
  struct bytes to_client, from_client, to_stdin;
  int stdin_close_requested;
  int init_exited;
  struct exit_status status;
  int exit_file_written;
  int exit_sent;
  int64_t exit_deadline;
  int64_t eof_deadline;
  int done;
};

int run_listen(const char *bundle, struct shim_err *e) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  /* Bind through /proc/self/fd so a long bundle path cannot exceed sun_path (108 bytes). */
  cleanup_close int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return shim_fail(e, errno, "open %s", bundle);
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/shim.sock", dfd);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return shim_fail(e, errno, "socket for %s/shim.sock", bundle);
  unlinkat(dfd, "shim.sock", 0);
  mode_t old = umask(0177); /* created 0600 from the start, no window */
  int r = bind(fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (r < 0) return shim_fail(e, errno, "bind %s/shim.sock", bundle);
  if (fchmodat(dfd, "shim.sock", 0600, 0) < 0) return shim_fail(e, errno, "chmod %s/shim.sock", bundle);
  if (listen(fd, 4) < 0) return shim_fail(e, errno, "listen %s/shim.sock", bundle);
  return take_fd(&fd);
}

static void drop_client(struct loop *l) {
  close_fd(&l->client);
  bytes_reset(&l->to_client);
  bytes_reset(&l->from_client);
  l->exit_sent = 0;
}

static int read_client(struct loop *l);

static void accept_client(struct loop *l) {
  int fd = accept4(l->ctx->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  /* What the old daemon sent before it went (its last ACKs) still counts: read it before dropping
   * it, so the newest is resent only what was not acknowledged. Bounded: a peer may keep writing. */
  int done = l->done; /* the old one's close after EXIT does not end the job: a newer daemon came */
  for (int i = 0; i < 64 && l->client >= 0 && read_client(l); i++) {
  }
  l->done = done;
  drop_client(l); /* one daemon at a time: the newest wins */
  l->client = fd;
  out_buffer_rewind(&l->buf);
  if (frame_append_hello(&l->to_client, (uint32_t)l->ctx->shim_pid, (uint32_t)l->ctx->init_pid) < 0) drop_client(l);
}

static void handle_frame(struct loop *l, const struct frame *f) {
  struct stdio_fds *io = l->ctx->io;
  struct shim_err e;
  switch (f->type) {
  case FRAME_STDIN:
    if (io->in >= 0 && !l->stdin_close_requested) bytes_append(&l->to_stdin, f->payload, f->len);
    break;
  case FRAME_STDIN_CLOSE:
    if (io->tty && io->in >= 0) bytes_append(&l->to_stdin, "\x04", 1); /* a terminal's EOF is ^D */
    else l->stdin_close_requested = 1;
    break;
  case FRAME_RESIZE:
    if (io->tty && f->len >= 4) pty_resize(io->out >= 0 ? io->out : io->in, get_be16(f->payload), get_be16(f->payload + 2), &e);
    break;
  case FRAME_SIGNAL:
    if (f->len >= 4 && !l->init_exited) kill(l->ctx->init_pid, (int)get_be32(f->payload));
    break;
  case FRAME_ACK:
    if (f->len >= 8) out_buffer_ack(&l->buf, get_be64(f->payload));
    break;
  default:
    break;
  }
}

/* Reads what the daemon sent and handles its whole frames; 1 when it read something, 0 when there
 * was nothing to read or the client is gone. */
static int read_client(struct loop *l) {
  uint8_t tmp[READ_CHUNK];
  ssize_t n = read(l->client, tmp, sizeof tmp);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) {
    /* The daemon closed after EXIT reached it: the job is done. */
    if (l->exit_sent && l->to_client.len == 0) l->done = 1;
    drop_client(l);
    return 0;
  }
  if (bytes_append(&l->from_client, tmp, (size_t)n) < 0) {
    drop_client(l);
    return 0;
  }
  size_t pos = 0;
  struct frame f;
  int r;
  while ((r = frame_parse(l->from_client.data + pos, l->from_client.len - pos, &f)) == 1) {
    handle_frame(l, &f);
    pos += FRAME_HEADER_LEN + f.len;
  }
  if (r < 0) {
    drop_client(l);
    return 0;
  }
  bytes_consume(&l->from_client, pos);
  return 1;
}

static void write_client(struct loop *l) {
  ssize_t n = send(l->client, l->to_client.data, l->to_client.len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {
    drop_client(l);
    return;
  }
  bytes_consume(&l->to_client, (size_t)n);
}

/* Queues unsent output frames for the client, a little at a time so memory stays flat. */
static void fill_client_queue(struct loop *l) {
  if (l->client < 0) return;
  while (l->to_client.len < CLIENT_QUEUE_HIGH) {
    const struct chunk *c = out_buffer_take_unsent(&l->buf);
    if (!c) break;
    if (frame_append_output_header(&l->to_client, c->stream, c->offset, c->len) < 0 ||
        bytes_append(&l->to_client, c->data, c->len) < 0) {
      drop_client(l);
      return;
    }
  }
}

static void read_output(struct loop *l, int *fd, uint8_t stream) {
  uint8_t tmp[READ_CHUNK];
  size_t space = out_buffer_space(&l->buf);
  if (space == 0) return;
  ssize_t n = read(*fd, tmp, space < sizeof tmp ? space : sizeof tmp);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) { /* EOF, or EIO from a pty master once every slave is closed */
    close_fd(fd);
    return;
  }
  out_buffer_add(&l->buf, stream, tmp, (size_t)n);
  if (l->init_exited) l->eof_deadline = now_ms() + EOF_GRACE_MS;
}

static void write_stdin(struct loop *l) {
  struct stdio_fds *io = l->ctx->io;
  ssize_t n = write(io->in, l->to_stdin.data, l->to_stdin.len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) { /* the reader is gone */
    bytes_reset(&l->to_stdin);
    if (!io->tty) close_fd(&io->in);
    return;
  }
  bytes_consume(&l->to_stdin, (size_t)n);
}

static void handle_signals(struct loop *l) {
  struct signalfd_siginfo si;
  while (read(l->ctx->signal_fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD) {
      if (!l->init_exited) kill(l->ctx->init_pid, (int)si.ssi_signo);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != l->ctx->init_pid) continue;
      l->init_exited = 1;
      exit_status_from_wait(&l->status, status);
      l->eof_deadline = now_ms() + EOF_GRACE_MS;
    }
  }
}

/* The exit's own steps once the init is gone: exit file after output is drained, then EXIT to an
 * up-to-date daemon. */
static void advance_exit(struct loop *l, struct shim_err *e) {
  struct stdio_fds *io = l->ctx->io;
  if (!l->init_exited) return;
  if (out_buffer_space(&l->buf) == 0) l->eof_deadline = now_ms() + EOF_GRACE_MS; /* not idle, just full */
  if ((io->out >= 0 || io->err >= 0) && now_ms() >= l->eof_deadline) {
    /* Idle for a while and something outside the pid namespace keeps the write end open. */
    close_fd(&io->out);
    close_fd(&io->err);
  }
  if (io->out >= 0 || io->err >= 0) return;
  if (!l->exit_file_written) {
    if (exit_file_write(l->ctx->bundle, &l->status, e) < 0) return;
    l->exit_file_written = 1;
  }
  if (l->client >= 0 && !l->exit_sent && out_buffer_empty(&l->buf)) {
    if (frame_append_exit(&l->to_client, l->status.code, l->status.signal, l->status.finished_at) == 0) {
      l->exit_sent = 1;
      l->exit_deadline = now_ms() + EXIT_GRACE_MS;
    }
  }
  if (l->exit_sent && l->to_client.len == 0 && now_ms() >= l->exit_deadline) l->done = 1;
}

static int poll_timeout(const struct loop *l) {
  int64_t deadline = -1;
  if (l->exit_sent) deadline = l->exit_deadline;
  else if (l->init_exited && (l->ctx->io->out >= 0 || l->ctx->io->err >= 0)) deadline = l->eof_deadline;
  if (deadline < 0) return l->init_exited && !l->exit_file_written ? 1000 : -1;
  int64_t left = deadline - now_ms();
  return left < 0 ? 0 : (int)(left > 60000 ? 60000 : left);
}

enum { P_SIG, P_LISTEN, P_CLIENT, P_OUT, P_ERR, P_IN, P_COUNT };

int run_serve(struct run_ctx *ctx, struct shim_err *e) {
  struct stdio_fds *io = ctx->io;
  struct loop l = {.ctx = ctx, .client = -1};
  out_buffer_init(&l.buf, ctx->spec->buffer);
  l.buf.next_offset = ctx->spec->start_offset;
  for (int *fd = &io->out; fd <= &io->in; fd++)
    if (*fd >= 0) fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);

  while (!l.done) {
    int can_read_output = out_buffer_space(&l.buf) > 0;
    struct pollfd p[P_COUNT] = {
        [P_SIG] = {.fd = ctx->signal_fd, .events = POLLIN},
        [P_LISTEN] = {.fd = ctx->listen_fd, .events = POLLIN},
        [P_CLIENT] = {.fd = l.client,
                      .events = (short)((l.to_stdin.len < STDIN_QUEUE_HIGH ? POLLIN : 0) | (l.to_client.len ? POLLOUT : 0))},
        [P_OUT] = {.fd = can_read_output ? io->out : -1, .events = POLLIN},
        [P_ERR] = {.fd = can_read_output ? io->err : -1, .events = POLLIN},
        [P_IN] = {.fd = l.to_stdin.len ? io->in : -1, .events = POLLOUT},
    };
    if (poll(p, P_COUNT, poll_timeout(&l)) < 0 && errno != EINTR) {
      shim_fail(e, errno, "poll");
      break;
    }
    if (p[P_SIG].revents) handle_signals(&l);
    if (p[P_LISTEN].revents & POLLIN) accept_client(&l);
    else if (l.client >= 0 && p[P_CLIENT].fd == l.client) {
      if (p[P_CLIENT].revents & (POLLIN | POLLHUP | POLLERR)) read_client(&l);
      if (l.client >= 0 && (p[P_CLIENT].revents & POLLOUT)) write_client(&l);
    }
    if (p[P_OUT].revents) read_output(&l, &io->out, STREAM_STDOUT);
    if (p[P_ERR].revents) read_output(&l, &io->err, STREAM_STDERR);
    if (p[P_IN].revents && io->in >= 0) write_stdin(&l);
    if (l.stdin_close_requested && l.to_stdin.len == 0 && !io->tty) close_fd(&io->in);
    fill_client_queue(&l);
    advance_exit(&l, e);
    if (l.client >= 0 && l.to_client.len) write_client(&l);
  }
  out_buffer_free(&l.buf);
  bytes_free(&l.to_client);
  bytes_free(&l.from_client);
  bytes_free(&l.to_stdin);
  close_fd(&l.client);
  return l.done ? 0 : -1;
}
