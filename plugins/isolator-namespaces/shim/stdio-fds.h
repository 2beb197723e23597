/* The process's stdin/stdout/stderr: a pty, or pipes (stdin a pipe only with `stdin 1`). */
#pragma once
#include "err.h"

struct stdio_fds {
  int tty;
  /* shim side; -1 when absent */
  int out; /* stdout pipe read end, or the pty master */
  int err; /* stderr pipe read end (no tty) */
  int in;  /* stdin pipe write end, or a dup of the pty master */
  /* process side */
  int child_in, child_out, child_err;
  /* A tty made inside the container (run mode): the child opens its own devpts' ptmx after
   * pivot_root and sends the master back over this socket pair (as runc's console socket). */
  int console_parent, console_child;
};

/* Every fd -1: for initializers before stdio_create. */
#define STDIO_FDS_NONE \
  {.out = -1, .err = -1, .in = -1, .child_in = -1, .child_out = -1, .child_err = -1, .console_parent = -1, .console_child = -1}

/* With tty, the pty comes from pty_root's dev/ptmx (pty_open: exec, the container's root); with
 * pty_root -1 it is made later by the child (stdio_install_console). */
int stdio_create(struct stdio_fds *io, int tty, int stdin_open, int pty_root, unsigned rows, unsigned cols, struct shim_err *e);
/* In the child, inside its mount namespace and root: a pty from /dev/ptmx, the slave as fds 0-2
 * and controlling terminal, the master sent to the parent. Nothing to do without a console socket. */
int stdio_install_console(struct stdio_fds *io, unsigned rows, unsigned cols, struct shim_err *e);
/* In the parent: the master from the child. 0 with io->out set, or 0 with io->out -1 when the
 * child died first (its own error report says why); -1 on a socket error. */
int stdio_receive_console(struct stdio_fds *io, struct shim_err *e);
/* In the parent after fork/clone. */
void stdio_close_child_side(struct stdio_fds *io);
/* In the child: installs fds 0,1,2 (and the controlling terminal), closes the rest. */
int stdio_install(struct stdio_fds *io, struct shim_err *e);
void stdio_close(struct stdio_fds *io);
