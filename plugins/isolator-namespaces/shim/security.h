/* The container's privileges and extra filesystem pieces, from the spec: its capability set,
 * --privileged, --read-only, --tmpfs and --device. Parsed here; applied by caps.c and
 * namespaces/extra-mounts.c. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "tmpfs <container path> <options>": a tmpfs mounted at a path inside the rootfs. */
struct tmpfs_entry {
  char *target;
  char *options; /* mount flags and tmpfs data, comma-separated ("" for none) */
};

/* "device <container path> <c|b> <major> <minor> <mode> <uid> <gid>": a device node made in the container. */
struct device_entry {
  char *path;
  char type;
  unsigned major, minor;
  mode_t mode; /* permission bits */
  uid_t uid;
  gid_t gid;
};

/* "device-rule <a|c|b> <major|*> <minor|*> <access>": a device the container may use (cgroup v2). */
enum { DEVICE_ACCESS_MKNOD = 1, DEVICE_ACCESS_READ = 2, DEVICE_ACCESS_WRITE = 4 };
struct device_rule {
  char type;
  int major, minor; /* -1: any */
  int access;       /* DEVICE_ACCESS_* */
};
#define SECURITY_MAX_DEVICE_RULES 1024

struct security_spec {
  int has_caps;  /* "caps <hex>" was given; otherwise Docker's default set */
  uint64_t caps; /* bounding set, and permitted + effective for root */
  int privileged;      /* "privileged 1": /sys writable, no masked or read-only paths */
  int readonly_rootfs; /* "readonly-rootfs 1" */
  int no_new_privs;    /* "no-new-privs 1" (--security-opt no-new-privileges); unset as in Docker */
  struct tmpfs_entry *tmpfs;
  size_t n_tmpfs;
  struct device_entry *devices;
  size_t n_devices;
  struct device_rule *device_rules;
  size_t n_device_rules;
};

/* One spec line; returns 0, -1 for a bad value, -2 when the key is not one of these. */
int security_parse(struct security_spec *s, const char *key, char *value);
void security_spec_free(struct security_spec *s);
/* The capability set the process gets: the spec's, or Docker's default. */
uint64_t security_caps(const struct security_spec *s);
