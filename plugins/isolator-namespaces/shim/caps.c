#include "caps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void) {
  char buf[16] = {0};
  cleanup_close int fd = -1;
  fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read(fd, buf, sizeof buf - 1) > 0) return atoi(buf);
  return CAP_LAST_CAP;
}

int caps_drop_bounding(uint64_t set, struct shim_err *e) {
  int last = last_cap();
  for (int c = 0; c <= last; c++) {
    if (set & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return shim_fail(e, errno, "prctl PR_CAPBSET_DROP %d", c);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return shim_fail(e, errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL");
  return 0;
}

int caps_set_final(uid_t uid, uint64_t caps, struct shim_err *e) {
  /* As Docker: root gets the set as permitted and effective; other users only the bounding set,
   * as execve would give them; nothing inheritable or ambient. */
  uint64_t set = uid == 0 ? caps : 0;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)set, .permitted = (uint32_t)set, .inheritable = 0},
      {.effective = (uint32_t)(set >> 32), .permitted = (uint32_t)(set >> 32), .inheritable = 0},
  };
  if (syscall(SYS_capset, &hdr, data) < 0) return shim_fail(e, errno, "capset %#llx (the shim holds fewer capabilities)", (unsigned long long)set);
  return 0;
}

int set_no_new_privs(struct shim_err *e) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return shim_fail(e, errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}
