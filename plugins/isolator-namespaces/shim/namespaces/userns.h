/* User namespaces (mini-dockerd --userns-remap): the container's root is an unprivileged host uid. */
#pragma once
#include <sys/types.h>

#include "err.h"
#include "spec.h"

/*
 * --userns-remap: makes a user namespace that maps 0..size-1 in the container to uid..uid+size-1
 * (gid likewise) on the host, written from here (we are root: no newuidmap), and in the same
 * unshare the container's mount, UTS, IPC, PID and (new_net) network namespaces, which the kernel
 * makes after the user namespace and owned by it, as runc and crun do; then forks the container's
 * init in them. A helper process (first joining net_fd when it is >= 0) unshares, waits for the
 * maps, forks the init with CLONE_PARENT (the shim's child, pid 1 of the new PID namespace, which
 * runs init(arg) and never returns) and exits. Returns the init's pid and sets *userns_fd.
 */
pid_t userns_fork_init(const struct spec *s, int new_net, int net_fd, int *userns_fd, void (*init)(void *), void *arg, struct shim_err *e);

/* Joins the cgroup, network, UTS, IPC and mount namespaces of `pid` (the host's root may act in
 * namespaces owned by a user namespace below its own). */
int userns_join_init(pid_t pid, struct shim_err *e);

/*
 * Mounts an overlay spec mount on idmapped layers: each lower dir, and the folder of upperdir and
 * workdir, is cloned (open_tree) and idmapped with the namespace (mount_setattr MOUNT_ATTR_IDMAP),
 * staged on a private tmpfs at the target, and the overlay is mounted over it. Called with the
 * mapped root's fsuid (userns_fs_as_root): overlay keeps the mounter's credentials for its own
 * writes, so what the container's root writes is stored as uid 0 in the upper dir, and image
 * layers are shared by every mapping, unchanged on disk.
 */
int userns_mount_overlay(const struct mount_entry *m, int userns_fd, struct shim_err *e);

/*
 * Makes the file system ids the mapped root's (the range's first host uid and gid), with every
 * capability still effective: files the setup creates in the idmapped rootfs (mount points, the
 * cwd) then belong to the container's root; host uid 0 has no id on an idmapped mount (EOVERFLOW).
 */
int userns_fs_as_root(const struct spec *s, struct shim_err *e);

/* Enters the user namespace `fd` as its root (uid and gid 0 inside, the range's first host ids). */
int userns_enter(int fd, struct shim_err *e);

/* An fd of the user namespace of `pid`; -2 (no error) when it is the shim's own; -1 on error. */
int userns_of(pid_t pid, struct shim_err *e);
