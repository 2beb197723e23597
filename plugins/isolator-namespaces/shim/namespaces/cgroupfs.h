/* The container's view of its own cgroups at /sys/fs/cgroup, as Docker mounts it. */
#pragma once
#include "err.h"
#include "spec.h"

/*
 * Runs in the init after it joined its cgroups (`cgroups`, the spec's host folders) and unshared
 * its cgroup namespace, with cwd at the rootfs and its sysfs mounted at "sys": mounts (read-only
 * unless `writable`, for a privileged container) at
 * sys/fs/cgroup what the host has at /sys/fs/cgroup, rooted at the container's cgroups (the
 * namespace's root): cgroup2 on a unified host; on a v1 or hybrid host a tmpfs with each hierarchy
 * (same options) and the host's links to them. Only hierarchies holding one of `cgroups` are
 * shown: elsewhere the namespace's root would be the shim's cgroup, a part of the host's tree.
 */
int cgroupfs_mount(const struct strv *cgroups, int writable, struct shim_err *e);
