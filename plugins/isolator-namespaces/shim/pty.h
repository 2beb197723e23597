/* Pseudo-terminals for -t: master stays with the shim, slave becomes the process's stdio. */
#pragma once
#include "err.h"

/* Opens a new pty through ptmx_path (the host's /dev/ptmx, or a container's devpts ptmx) and
 * returns the slave through TIOCGPTPEER, so no /dev/pts path has to be resolved. */
int pty_open(const char *ptmx_path, int *master, int *slave, struct shim_err *e);
int pty_resize(int master, unsigned rows, unsigned cols, struct shim_err *e);
/* In the child: new session, the slave as controlling terminal. */
int pty_make_controlling(int slave, struct shim_err *e);
