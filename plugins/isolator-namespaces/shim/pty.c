#include "pty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int pty_open(const char *ptmx_path, int *master, int *slave, struct shim_err *e) {
  cleanup_close int m = open(ptmx_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return shim_fail(e, errno, "open %s", ptmx_path);
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0) return shim_fail(e, errno, "ioctl TIOCSPTLCK %s", ptmx_path);
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) return shim_fail(e, errno, "ioctl TIOCGPTPEER %s", ptmx_path);
  *master = take_fd(&m);
  *slave = s;
  return 0;
}

int pty_resize(int master, unsigned rows, unsigned cols, struct shim_err *e) {
  if (rows == 0 || cols == 0) return 0;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(master, TIOCSWINSZ, &ws) < 0) return shim_fail(e, errno, "ioctl TIOCSWINSZ");
  return 0;
}

int pty_make_controlling(int slave, struct shim_err *e) {
  if (setsid() < 0) return shim_fail(e, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return shim_fail(e, errno, "ioctl TIOCSCTTY");
  return 0;
}
