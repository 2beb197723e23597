/* Run mode after the init started: serve shim.sock, buffer output, forward signals, record the exit. */
#pragma once
#include <sys/types.h>

#include "err.h"
#include "spec.h"
#include "stdio-fds.h"

struct run_ctx {
  const struct spec *spec;
  const char *bundle;
  pid_t shim_pid;
  pid_t init_pid;
  int signal_fd;
  int listen_fd;
  struct stdio_fds *io;
};

/* Returns 0 once the exit was delivered to a daemon (or -1 on an unrecoverable error). */
int run_serve(struct run_ctx *ctx, struct shim_err *e);
/* Binds <bundle>/shim.sock, mode 0600. */
int run_listen(const char *bundle, struct shim_err *e);
