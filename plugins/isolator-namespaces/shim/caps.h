/* Capabilities: Docker's default set, applied with raw capset/prctl (no libcap). */
#pragma once
#include <sys/types.h>

#include "err.h"

/* Before switching user: keeps only Docker's default set in the bounding set, clears ambient. */
int caps_drop_bounding(struct shim_err *e);
/* After switching user: root gets the default set as permitted/effective/inheritable, others none. */
int caps_set_final(uid_t uid, struct shim_err *e);
int set_no_new_privs(struct shim_err *e);
