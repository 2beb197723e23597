/* The container's filesystem view: spec mounts, /proc, /sys, /dev, pivot_root, masked paths. */
#pragma once
#include "err.h"
#include "spec.h"

/* Runs in the init, in its new mount namespace, before pivot_root. Leaves cwd at the new "/". */
int rootfs_setup(const struct spec *s, struct shim_err *e);
/* After pivot_root: masks and read-only paths as Docker does. */
int rootfs_mask_paths(struct shim_err *e);
/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, struct shim_err *e);
