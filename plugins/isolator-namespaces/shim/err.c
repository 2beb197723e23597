#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int shim_fail(struct shim_err *e, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof e->msg)
    snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errnum));
  e->code = SHIM_EXIT_OTHER;
  errno = errnum;
  return -1;
}

int shim_fail_code(struct shim_err *e, int code, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  e->code = code;
  errno = errnum;
  return -1;
}
