/* The bundle spec: "<key> <escaped value>" lines, written by ../shim-protocol.ts writeSpec(). */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "seccomp-filter.h"
#include "security.h"

struct strv {
  char **items; /* NULL-terminated, for execve */
  size_t n;
};

struct mount_entry {
  char *type;
  char *source;
  char *target;
  char *options; /* "" when the spec said "-" */
};

/* "bind <source> <target> <ro|rw>": a host path bound (recursively) at a path inside the container. */
struct bind_entry {
  char *source;
  char *target; /* absolute, inside the container: resolved within the rootfs */
  int readonly;
};

struct spec {
  char *text; /* owns every string below */
  char *id;
  char *rootfs;
  struct mount_entry *mounts;
  size_t n_mounts;
  struct bind_entry *binds;
  size_t n_binds;
  struct strv args;
  struct strv env;
  struct strv cgroups;
  char *cwd;
  char *user;
  char *hostname;
  int tty;
  int stdin_open;
  unsigned rows;
  unsigned cols;
  size_t buffer;
  unsigned long long start_offset; /* run: offset of the first output byte (continues a log) */
  pid_t pid; /* exec mode: the container init, host view */
  pid_t parent; /* exec mode: "parent": the init's shim, checked before its namespaces are joined (0: unchecked) */
  char *exit_file; /* exec mode: where the exit record goes ("exit-file"), NULL for none */
  int hold; /* run: report "held <initPid>" once the init is in its namespaces and cgroups, then wait for "go" on stdin */
  char *netns; /* run: "new" (default), "host" (the host's network namespace), or the path of one to join */
  /* run: "netns-of <pid> <parent>": join the namespace of process pid, which must be parent's child (netns is then "process") */
  pid_t netns_pid, netns_parent;
  struct seccomp_spec seccomp; /* "seccomp", "seccomp-others", "seccomp-rule", "seccomp-cache" lines */
  struct security_spec security; /* "caps", "privileged", "readonly-rootfs", "tmpfs", "device" lines */
  /* "userns <host uid> <host gid> <size>": container ids 0..size-1 map to these host ranges (size 0: no user namespace). */
  unsigned long userns_uid, userns_gid, userns_size;
  int userns_fd; /* run: the user namespace made for it (namespaces/userns.c), or -1 */
};

#define SHIM_DEFAULT_BUFFER (1024 * 1024)

int spec_load(struct spec *s, const char *path, struct shim_err *e);
void spec_free(struct spec *s);
int strv_push(struct strv *v, char *s);
/* Undoes the spec escaping (\\ \n \t \s) in place; -1 on any other escape. */
int spec_unescape(char *s);
