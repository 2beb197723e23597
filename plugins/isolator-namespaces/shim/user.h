/* Resolves "", "uid", "uid:gid", "name", "name:group" against the container's /etc/passwd and
 * /etc/group (parsed directly, no NSS), then switches to it. */
#pragma once
#include <limits.h>
#include <sys/types.h>

#include "err.h"

#define USER_MAX_GROUPS 64

struct user_ids {
  uid_t uid;
  gid_t gid;
  gid_t groups[USER_MAX_GROUPS];
  size_t n_groups;
  char home[PATH_MAX];
};

int user_resolve(const char *spec, struct user_ids *u, struct shim_err *e);
/* setgroups, setgid, setuid, in that order. */
int user_switch(const struct user_ids *u, struct shim_err *e);
