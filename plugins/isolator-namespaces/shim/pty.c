#include "pty.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* The pty multiplexer's device number and the devpts filesystem's magic (linux/magic.h). */
enum { PTMX_MAJOR = 5, PTMX_MINOR = 2 };
#define DEVPTS_MAGIC 0x1cd1

/* What an inode is, for the error: "a symlink", "a FIFO", "the character device 8:0"... */
static const char *kind_of(const struct stat *st, char *buf, size_t len) {
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
    snprintf(buf, len, "the %s device %u:%u", S_ISCHR(st->st_mode) ? "character" : "block", major(st->st_rdev), minor(st->st_rdev));
  else
    snprintf(buf, len, "%s", S_ISFIFO(st->st_mode) ? "a FIFO" : S_ISDIR(st->st_mode) ? "a folder" : S_ISSOCK(st->st_mode) ? "a socket" : "a file");
  return buf;
}

int pty_open(int root, int *master, int *slave, struct shim_err *e) {
  /* Resolved as if root were / (a symlink, "/dev/x" too, never leaves it), held O_PATH: a FIFO does
   * not block and no device is opened before it is checked to be a devpts ptmx (5:2 on devpts). A
   * node the container made is refused because it is not that ptmx: another device would be opened
   * by the host's root outside the container's device rules, and a 5:2 outside devpts is whatever
   * the kernel makes of it (since Linux 4.7 the devpts instance mounted at `pts` beside the node,
   * or ENODEV when there is none; never the host's instance). */
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  cleanup_close int held = (int)syscall(SYS_openat2, root, "dev/ptmx", &how, sizeof how);
  if (held < 0) return shim_fail(e, errno, "open the container's /dev/ptmx (a tty needs it: a link to pts/ptmx)");
  struct stat st;
  struct statfs fs;
  if (fstat(held, &st) < 0 || fstatfs(held, &fs) < 0) return shim_fail(e, errno, "stat the container's /dev/ptmx");
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != PTMX_MAJOR || minor(st.st_rdev) != PTMX_MINOR || fs.f_type != DEVPTS_MAGIC) {
    char what[64];
    int multiplexer = S_ISCHR(st.st_mode) && major(st.st_rdev) == PTMX_MAJOR && minor(st.st_rdev) == PTMX_MINOR;
    return shim_fail_code(e, SHIM_EXIT_OTHER, ENOTTY, "the container's /dev/ptmx is %s%s, not its devpts ptmx: a tty needs /dev/ptmx -> pts/ptmx",
                          kind_of(&st, what, sizeof what), multiplexer ? " outside devpts" : "");
  }
  char again[64];
  snprintf(again, sizeof again, "/proc/self/fd/%d", held);
  cleanup_close int m = open(again, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return shim_fail(e, errno, "open the container's devpts ptmx");
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0) return shim_fail(e, errno, "ioctl TIOCSPTLCK /dev/ptmx");
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) return shim_fail(e, errno, "ioctl TIOCGPTPEER /dev/ptmx");
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
