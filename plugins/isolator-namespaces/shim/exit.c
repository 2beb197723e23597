#include "exit.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

void format_rfc3339_nano_now(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

void exit_status_from_wait(struct exit_status *x, int wstatus) {
  if (WIFSIGNALED(wstatus)) {
    x->signal = WTERMSIG(wstatus);
    x->code = 128 + x->signal;
  } else {
    x->signal = 0;
    x->code = WEXITSTATUS(wstatus);
  }
  format_rfc3339_nano_now(x->finished_at, sizeof x->finished_at);
}

int exit_file_write(const char *bundle, const struct exit_status *x, struct shim_err *e) {
  char final[PATH_MAX];
  snprintf(final, sizeof final, "%s/exit", bundle);
  return exit_record_write(final, x, e);
}

int exit_record_write(const char *path, const struct exit_status *x, struct shim_err *e) {
  char tmp[PATH_MAX], dir[PATH_MAX], line[128];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return shim_fail(e, ENAMETOOLONG, "exit record %s", path);
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return shim_fail(e, EINVAL, "exit record %s: not an absolute path in a folder", path);
  *slash = '\0';
  int n = snprintf(line, sizeof line, "%d %d %s\n", x->code, x->signal, x->finished_at);
  {
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return shim_fail(e, errno, "open %s", tmp);
    if (write(fd, line, (size_t)n) != n) return shim_fail(e, errno ? errno : EIO, "write %s", tmp);
    if (fsync(fd) < 0) return shim_fail(e, errno, "fsync %s", tmp);
  }
  if (rename(tmp, path) < 0) return shim_fail(e, errno, "rename %s to %s", tmp, path);
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return shim_fail(e, errno, "open %s", dir);
  if (fsync(dfd) < 0) return shim_fail(e, errno, "fsync %s", dir);
  return 0;
}
