/* The exit status: "<exitCode> <signal> <finishedAt>", written atomically: a container's in <bundle>/exit,
 * an exec's at the path its spec names ("exit-file"). */
#pragma once
#include <stddef.h>

#include "err.h"

#define RFC3339_NANO_LEN 40

struct exit_status {
  int code;   /* the exit code, or 128+signal */
  int signal; /* 0 unless killed by a signal */
  char finished_at[RFC3339_NANO_LEN];
};

/* Fills an exit_status from a waitpid status, stamped now. */
void exit_status_from_wait(struct exit_status *x, int wstatus);
void format_rfc3339_nano_now(char *buf, size_t len);
/* exit.tmp, fsync, rename to exit, fsync the directory. */
int exit_file_write(const char *bundle, const struct exit_status *x, struct shim_err *e);
/* The same at an absolute path: <path>.tmp, fsync, rename to <path>, fsync its folder. */
int exit_record_write(const char *path, const struct exit_status *x, struct shim_err *e);
