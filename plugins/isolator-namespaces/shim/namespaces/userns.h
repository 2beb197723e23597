/* User namespaces (mini-dockerd --userns-remap): the container's root is an unprivileged host uid. */
#pragma once
#include <sys/types.h>

#include "err.h"
#include "spec.h"

/* The namespaces of a remapped container, made together so that its user namespace owns the others. */
struct userns_set {
  int user, mnt, uts, ipc;
  int net; /* -1 when the container does not get a new one (--network host|container:) */
};
#define USERNS_SET_NONE ((struct userns_set){-1, -1, -1, -1, -1})

/*
 * Makes a user namespace that maps 0..size-1 in the container to uid..uid+size-1 (gid likewise) on
 * the host, written from here (we are root: no newuidmap), and in the same unshare the container's
 * mount, UTS, IPC and (new_net) network namespaces, which the kernel makes after the user
 * namespace and owned by it, as runc and crun do: so the container's root, with the capability,
 * may set its hostname or configure its network, as with Docker's userns-remap. A helper process
 * holds them while the maps are written and the fds opened, then exits: the fds keep them alive.
 */
int userns_create(const struct spec *s, int new_net, struct userns_set *out, struct shim_err *e);

/* Closes what userns_create opened (the fds already -1 are skipped). */
void userns_set_close(struct userns_set *ns);

/*
 * In the shim, around the init's clone: keeps fds of its own network (when the set has one), UTS
 * and IPC namespaces in `own` and joins the set's; userns_return goes back and closes them. The
 * host's root may act in namespaces owned by a user namespace below its own, so the init's setup
 * (mounts, idmapped layers, devices, hostname) is done as before; it enters the user namespace
 * itself last (userns_enter).
 */
int userns_join_around_clone(const struct userns_set *set, struct userns_set *own, struct shim_err *e);
int userns_return(struct userns_set *own, struct shim_err *e);

/* In the init: joins the set's mount namespace. */
int userns_join_mount(const struct userns_set *set, struct shim_err *e);

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
