/* Error reporting and cleanup helpers shared by every file. */
#pragma once
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes the daemon maps onto Docker's: command not found, not executable, anything else. */
enum { SHIM_EXIT_NOT_FOUND = 127, SHIM_EXIT_NOT_EXECUTABLE = 126, SHIM_EXIT_OTHER = 125 };

/* Why a step failed: the exit code the daemon should report and a message naming syscall and path. */
struct shim_err {
  int code;
  char msg[480];
};

/* Records "<formatted>: <strerror(errnum)>" with code 125 and returns -1 with errno = errnum. */
int shim_fail(struct shim_err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a message verbatim with the given exit code and returns -1 with errno = errnum. */
int shim_fail_code(struct shim_err *e, int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline void shim_closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void shim_freep(void *p) {
  free(*(void **)p);
}
#define cleanup_close __attribute__((cleanup(shim_closep)))
#define cleanup_free __attribute__((cleanup(shim_freep)))

/* Closes an fd the caller keeps in a variable, and marks it closed (-1); a no-op when it is. */
static inline void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Hands ownership of a cleanup-managed fd to the caller. */
static inline int take_fd(int *fd) {
  int r = *fd;
  *fd = -1;
  return r;
}
