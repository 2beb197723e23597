/* The last step of a container process: environment, PATH lookup, execve. */
#pragma once
#include "err.h"
#include "spec.h"

#define SHIM_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Builds the environment: the spec's env exactly, plus PATH and HOME when it does not set them. */
int build_env(const struct strv *spec_env, const char *home, struct strv *out, char *home_buf, size_t home_len);
/* Looks argv[0] up in the environment's PATH (unless it has a slash) into `resolved` (PATH_MAX
 * bytes) and checks that it can be run: code 127 (not found) or 126 (not executable) with Docker's
 * wording when not. */
int exec_resolve(char *const argv[], char *const envp[], char *resolved, struct shim_err *e);
/* execve of what exec_resolve found. Returns only on failure, with Docker's code and wording. */
int exec_resolved(const char *resolved, char *const argv[], char *const envp[], struct shim_err *e);
