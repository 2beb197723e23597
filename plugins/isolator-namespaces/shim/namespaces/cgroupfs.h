/* The container's view of its own cgroups at /sys/fs/cgroup, as Docker mounts it. */
#pragma once
#include "err.h"

/*
 * Runs in the init after it joined its cgroups and unshared its cgroup namespace, with cwd at the
 * rootfs and its sysfs mounted at "sys": mounts read-only at sys/fs/cgroup what the host has at
 * /sys/fs/cgroup, rooted at the container's cgroups (the namespace's root) — cgroup2 on a unified
 * host; on a v1 or hybrid host a tmpfs with each controller's hierarchy (same options) and the
 * host's links to them.
 */
int cgroupfs_mount(struct shim_err *e);
