/* Capabilities: the container's set (security.h), applied with raw capset/prctl (no libcap). */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Before switching user: keeps only `set` in the bounding set, clears ambient. */
int caps_drop_bounding(uint64_t set, struct shim_err *e);
/* After switching user: root gets `caps` as permitted and effective, others none (inheritable none). */
int caps_set_final(uid_t uid, uint64_t caps, struct shim_err *e);
int set_no_new_privs(struct shim_err *e);
