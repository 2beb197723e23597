/* Pseudo-terminals for -t: master stays with the shim, slave becomes the process's stdio. */
#pragma once
#include "err.h"

/* Opens a new pty through root's dev/ptmx (root: the container's root directory, an O_PATH fd) and
 * returns the slave through TIOCGPTPEER, so no /dev/pts path has to be resolved. The container
 * controls what is there: it is resolved inside root and must be a devpts ptmx (5:2 on devpts),
 * checked on an O_PATH handle before it is opened, else a clear error (never a host path, never a
 * FIFO's hang, never another device). */
int pty_open(int root, int *master, int *slave, struct shim_err *e);
int pty_resize(int master, unsigned rows, unsigned cols, struct shim_err *e);
/* In the child: new session, the slave as controlling terminal. */
int pty_make_controlling(int slave, struct shim_err *e);
