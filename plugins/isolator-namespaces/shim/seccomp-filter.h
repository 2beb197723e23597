/* Seccomp: the container's syscall filter, built with libseccomp from the spec's "seccomp" lines
 * and loaded last before execve (after capabilities and no_new_privs), for run and exec alike. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SECCOMP_MAX_ARGS 6

/* What a rule does: allow, fail with an errno, or kill; and the errno for "errno". */
struct seccomp_action {
  int kind; /* SECCOMP_KIND_* */
  int errno_ret;
};

enum { SECCOMP_KIND_ALLOW = 1, SECCOMP_KIND_ERRNO, SECCOMP_KIND_KILL_PROCESS, SECCOMP_KIND_KILL_THREAD, SECCOMP_KIND_TRAP, SECCOMP_KIND_LOG };

struct seccomp_arg {
  unsigned index;
  int op; /* SECCOMP_OP_* */
  uint64_t value;
  uint64_t value_two;
};

enum { SECCOMP_OP_NE = 1, SECCOMP_OP_LT, SECCOMP_OP_LE, SECCOMP_OP_EQ, SECCOMP_OP_GE, SECCOMP_OP_GT, SECCOMP_OP_MASKED_EQ };

/* "seccomp-rule <action> <errno> <name> [<index>,<op>,<value>,<value2>]...": the args are ANDed. */
struct seccomp_rule {
  struct seccomp_action action;
  char *name;
  struct seccomp_arg args[SECCOMP_MAX_ARGS];
  unsigned n_args;
};

struct seccomp_spec {
  int enabled;                  /* a "seccomp" line was given */
  struct seccomp_action fallback; /* "seccomp <action> <errno>": what no rule matches */
  int has_others;               /* "seccomp-others <action> <errno>": every syscall no rule names */
  struct seccomp_action others;
  struct seccomp_rule *rules;
  size_t n_rules;
};

/* Spec lines; return 0, or -1 for a bad value. */
int seccomp_parse_default(struct seccomp_spec *s, char *value);
int seccomp_parse_others(struct seccomp_spec *s, char *value);
int seccomp_parse_rule(struct seccomp_spec *s, char *value);
void seccomp_spec_free(struct seccomp_spec *s);

/* Builds and loads the filter; nothing when the spec has none. */
int seccomp_apply(const struct seccomp_spec *s, struct shim_err *e);
