/* What --device, --tmpfs, --read-only and --privileged change in the container's filesystem. */
#pragma once
#include "err.h"
#include "security.h"

/* Before pivot_root, cwd at the rootfs, its /dev mounted: the "device" nodes and the "tmpfs"
 * mounts, every path resolved inside the rootfs (an image's symlink never leads onto the host). */
int extra_mounts_before_pivot(const struct security_spec *s, struct shim_err *e);
/* After pivot_root: Docker's masked and read-only paths (none when privileged), then with
 * "readonly-rootfs 1" the working directory made if missing and the root made read-only (the
 * mounts on top keep their own flags). */
int extra_mounts_after_pivot(const struct security_spec *s, const char *cwd, struct shim_err *e);
