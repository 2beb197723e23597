#include "stdio-fds.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pty.h"

int stdio_create(struct stdio_fds *io, int tty, int stdin_open, int pty_root, unsigned rows, unsigned cols, struct shim_err *e) {
  *io = (struct stdio_fds)STDIO_FDS_NONE;
  io->tty = tty;
  if (tty && pty_root < 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return shim_fail(e, errno, "socketpair console");
    io->console_parent = sv[0];
    io->console_child = sv[1];
    return 0;
  }
  if (tty) {
    int slave;
    if (pty_open(pty_root, &io->out, &slave, e) < 0) return -1;
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
  close_fd(&io->console_child);
}

int stdio_install(struct stdio_fds *io, struct shim_err *e) {
  close_fd(&io->out);
  close_fd(&io->err);
  close_fd(&io->in);
  close_fd(&io->console_parent);
  if (io->console_child >= 0) return 0; /* the pty comes in stdio_install_console */
  if (io->tty && pty_make_controlling(io->child_in, e) < 0) return -1;
  if (!io->tty && setsid() < 0) return shim_fail(e, errno, "setsid");
  /* dup2 clears close-on-exec on 0, 1, 2; the originals keep it and vanish at execve. */
  if (dup2(io->child_in, 0) < 0 || dup2(io->child_out, 1) < 0 || dup2(io->child_err, 2) < 0)
    return shim_fail(e, errno, "dup2 stdio");
  return 0;
}

int stdio_install_console(struct stdio_fds *io, unsigned rows, unsigned cols, struct shim_err *e) {
  if (io->console_child < 0) return 0;
  int master, slave;
  cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return shim_fail(e, errno, "open /");
  if (pty_open(root, &master, &slave, e) < 0) return -1;
  int r = -1;
  if (pty_resize(master, rows ? rows : 24, cols ? cols : 80, e) < 0 || pty_make_controlling(slave, e) < 0) goto out;
  if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
    shim_fail(e, errno, "dup2 pty");
    goto out;
  }
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t n;
  do n = sendmsg(io->console_child, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n != 1) shim_fail(e, errno, "send the pty to the shim");
  else r = 0;
out:
  close(master);
  close(slave);
  close_fd(&io->console_child);
  return r;
}

int stdio_receive_console(struct stdio_fds *io, struct shim_err *e) {
  if (io->console_parent < 0) return 0;
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t n;
  do n = recvmsg(io->console_parent, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  close_fd(&io->console_parent);
  if (n < 0) return shim_fail(e, errno, "receive the pty from the container");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS) return 0;
  memcpy(&io->out, CMSG_DATA(c), sizeof(int));
  io->in = fcntl(io->out, F_DUPFD_CLOEXEC, 3);
  if (io->in < 0) return shim_fail(e, errno, "fcntl F_DUPFD_CLOEXEC pty");
  return 0;
}

void stdio_close(struct stdio_fds *io) {
  stdio_close_child_side(io);
  close_fd(&io->console_parent);
  close_fd(&io->out);
  close_fd(&io->err);
  close_fd(&io->in);
}
