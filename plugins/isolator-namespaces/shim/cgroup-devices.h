/* The device cgroup on cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) made from the
 * spec's "device-rule" lines and attached to the container's cgroup2 folder, as runc does. cgroup
 * v1 has the devices controller's files instead, which the limiter writes. */
#pragma once
#include "err.h"
#include "spec.h"

/* For each "cgroup" folder that is a cgroup2 one: loads the program and attaches it
 * (BPF_F_ALLOW_MULTI). Nothing without "device-rule" lines (privileged: every device). */
int cgroup_devices_attach(const struct spec *s, struct shim_err *e);
