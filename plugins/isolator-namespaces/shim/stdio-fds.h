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
};

int stdio_create(struct stdio_fds *io, int tty, int stdin_open, const char *ptmx_path, unsigned rows, unsigned cols,
                 struct shim_err *e);
/* In the parent after fork/clone. */
void stdio_close_child_side(struct stdio_fds *io);
/* In the child: installs fds 0,1,2 (and the controlling terminal), closes the rest. */
int stdio_install(struct stdio_fds *io, struct shim_err *e);
void stdio_close(struct stdio_fds *io);
