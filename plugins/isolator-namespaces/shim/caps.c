#include "caps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT
 * MKNOD AUDIT_WRITE SETFCAP = 0xa80425fb, what `docker run` grants by default. */
static const uint64_t default_caps = (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) |
                                     (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) |
                                     (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) | (1ULL << CAP_NET_BIND_SERVICE) |
                                     (1ULL << CAP_NET_RAW) | (1ULL << CAP_SYS_CHROOT) | (1ULL << CAP_MKNOD) |
                                     (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_SETFCAP);

static int last_cap(void) {
  char buf[16] = {0};
  cleanup_close int fd = -1;
  fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read(fd, buf, sizeof buf - 1) > 0) return atoi(buf);
  return CAP_LAST_CAP;
}

int caps_drop_bounding(struct shim_err *e) {
  int last = last_cap();
  for (int c = 0; c <= last; c++) {
    if (default_caps & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return shim_fail(e, errno, "prctl PR_CAPBSET_DROP %d", c);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return shim_fail(e, errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL");
  return 0;
}

int caps_set_final(uid_t uid, struct shim_err *e) {
  uint64_t set = uid == 0 ? default_caps : 0;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)set, .permitted = (uint32_t)set, .inheritable = (uint32_t)set},
      {.effective = (uint32_t)(set >> 32), .permitted = (uint32_t)(set >> 32), .inheritable = (uint32_t)(set >> 32)},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return shim_fail(e, errno, "capset");
  return 0;
}

int set_no_new_privs(struct shim_err *e) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return shim_fail(e, errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}
