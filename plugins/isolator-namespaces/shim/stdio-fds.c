#include "stdio-fds.h"

#include <fcntl.h>
#include <unistd.h>

#include "pty.h"

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

int stdio_create(struct stdio_fds *io, int tty, int stdin_open, const char *ptmx_path, unsigned rows, unsigned cols,
                 struct shim_err *e) {
  *io = (struct stdio_fds){.tty = tty, .out = -1, .err = -1, .in = -1, .child_in = -1, .child_out = -1, .child_err = -1};
  if (tty) {
    int slave;
    if (pty_open(ptmx_path, &io->out, &slave, e) < 0) return -1;
    if (pty_resize(io->out, rows ? rows : 24, cols ? cols : 80, e) < 0) return -1;
    io->child_in = slave;
    io->child_out = fcntl(slave, F_DUPFD_CLOEXEC, 3);
    io->child_err = fcntl(slave, F_DUPFD_CLOEXEC, 3);
    io->in = fcntl(io->out, F_DUPFD_CLOEXEC, 3);
    if (io->child_out < 0 || io->child_err < 0 || io->in < 0) return shim_fail(e, errno, "fcntl F_DUPFD_CLOEXEC pty");
    return 0;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 stdout");
  io->out = p[0];
  io->child_out = p[1];
  if (pipe2(p, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 stderr");
  io->err = p[0];
  io->child_err = p[1];
  if (stdin_open) {
    if (pipe2(p, O_CLOEXEC) < 0) return shim_fail(e, errno, "pipe2 stdin");
    io->child_in = p[0];
    io->in = p[1];
  } else {
    io->child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (io->child_in < 0) return shim_fail(e, errno, "open /dev/null");
  }
  return 0;
}

void stdio_close_child_side(struct stdio_fds *io) {
  close_fd(&io->child_in);
  close_fd(&io->child_out);
  close_fd(&io->child_err);
}

int stdio_install(struct stdio_fds *io, struct shim_err *e) {
  close_fd(&io->out);
  close_fd(&io->err);
  close_fd(&io->in);
  if (io->tty && pty_make_controlling(io->child_in, e) < 0) return -1;
  if (!io->tty && setsid() < 0) return shim_fail(e, errno, "setsid");
  /* dup2 clears close-on-exec on 0, 1, 2; the originals keep it and vanish at execve. */
  if (dup2(io->child_in, 0) < 0 || dup2(io->child_out, 1) < 0 || dup2(io->child_err, 2) < 0)
    return shim_fail(e, errno, "dup2 stdio");
  return 0;
}

void stdio_close(struct stdio_fds *io) {
  stdio_close_child_side(io);
  close_fd(&io->out);
  close_fd(&io->err);
  close_fd(&io->in);
}
