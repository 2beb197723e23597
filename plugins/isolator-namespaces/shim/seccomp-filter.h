/* Seccomp: the container's syscall filter. The spec's "seccomp" lines are compiled to BPF with
 * libseccomp once per profile (cached under the "seccomp-cache" folder, keyed by the daemon's hash
 * of the lines and libseccomp's version); the shim reads or builds the program before it forks
 * (seccomp_prepare, in spec_load) and the process loads it with seccomp(2) last before execve,
 * after capabilities and no_new_privs, for run and exec alike. */
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

/* The compiled filter: BPF instructions, as seccomp(SECCOMP_SET_MODE_FILTER) takes them. */
struct seccomp_program {
  void *insns; /* struct sock_filter[len] */
  unsigned short len;
};

struct seccomp_spec {
  int enabled;                  /* a "seccomp" line was given */
  struct seccomp_action fallback; /* "seccomp <action> <errno>": what no rule matches */
  int has_others;               /* "seccomp-others <action> <errno>": every syscall no rule names */
  struct seccomp_action others;
  struct seccomp_rule *rules;
  size_t n_rules;
  char *cache_dir; /* "seccomp-cache <dir> <key>": where compiled programs are kept, and this filter's key */
  char *cache_key;
  struct seccomp_program program; /* set by seccomp_prepare */
};

/* Spec lines; return 0, or -1 for a bad value. */
int seccomp_parse_default(struct seccomp_spec *s, char *value);
int seccomp_parse_others(struct seccomp_spec *s, char *value);
int seccomp_parse_rule(struct seccomp_spec *s, char *value);
int seccomp_parse_cache(struct seccomp_spec *s, char *value);
void seccomp_spec_free(struct seccomp_spec *s);

/* Before forking: reads the compiled program from the cache, or builds it (and stores it there).
 * Nothing when the spec has no filter. */
int seccomp_prepare(struct seccomp_spec *s, struct shim_err *e);
/* In the process, last before execve: loads the prepared program (SECCOMP_FILTER_FLAG_SPEC_ALLOW). */
int seccomp_apply(const struct seccomp_spec *s, struct shim_err *e);
