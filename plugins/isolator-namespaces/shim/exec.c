#include "exec.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int has_key(const struct strv *env, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i < env->n; i++)
    if (strncmp(env->items[i], key, k) == 0 && env->items[i][k] == '=') return 1;
  return 0;
}

int build_env(const struct strv *spec_env, const char *home, struct strv *out, char *home_buf, size_t home_len) {
  for (size_t i = 0; i < spec_env->n; i++)
    if (strv_push(out, spec_env->items[i]) < 0) return -1;
  if (!has_key(spec_env, "PATH") && strv_push(out, "PATH=" SHIM_DEFAULT_PATH) < 0) return -1;
  if (!has_key(spec_env, "HOME")) {
    snprintf(home_buf, home_len, "HOME=%s", home);
    if (strv_push(out, home_buf) < 0) return -1;
  }
  return 0;
}

static const char *env_get(char *const envp[], const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; envp[i]; i++)
    if (strncmp(envp[i], key, k) == 0 && envp[i][k] == '=') return envp[i] + k + 1;
  return NULL;
}

/* Checks a path the way Docker reports it: missing, a directory, or not executable. */
static int check_path(const char *cmd, const char *path, struct shim_err *e) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return shim_fail_code(e, SHIM_EXIT_NOT_FOUND, errno, "exec: \"%s\": stat %s: no such file or directory", cmd, path);
    return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, errno, "exec: \"%s\": stat %s: %s", cmd, path, strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, EISDIR, "exec: \"%s\": is a directory", cmd);
  if (access(path, X_OK) < 0) return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, EACCES, "exec: \"%s\": permission denied", cmd);
  return 0;
}

static int lookup_path(const char *cmd, const char *path_env, char *out, size_t out_len, struct shim_err *e) {
  char dirs[PATH_MAX * 4];
  snprintf(dirs, sizeof dirs, "%s", path_env);
  char *save = NULL;
  for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    struct stat st;
    if (snprintf(out, out_len, "%s/%s", dir, cmd) >= (int)out_len) continue;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
  }
  return shim_fail_code(e, SHIM_EXIT_NOT_FOUND, ENOENT, "exec: \"%s\": executable file not found in $PATH", cmd);
}

int exec_resolve(char *const argv[], char *const envp[], char *resolved, struct shim_err *e) {
  const char *cmd = argv[0];
  if (!*cmd) return shim_fail_code(e, SHIM_EXIT_NOT_FOUND, ENOENT, "exec: \"\": executable file not found in $PATH");
  if (strchr(cmd, '/')) {
    if (snprintf(resolved, PATH_MAX, "%s", cmd) >= PATH_MAX)
      return shim_fail_code(e, SHIM_EXIT_OTHER, ENAMETOOLONG, "exec: \"%s\": file name too long", cmd);
  } else {
    const char *path_env = env_get(envp, "PATH");
    if (lookup_path(cmd, path_env ? path_env : SHIM_DEFAULT_PATH, resolved, PATH_MAX, e) < 0) return -1;
  }
  return check_path(cmd, resolved, e);
}

int exec_resolved(const char *resolved, char *const argv[], char *const envp[], struct shim_err *e) {
  const char *cmd = argv[0];
  execve(resolved, argv, envp);
  int err = errno;
  if (err == ENOENT) /* e.g. a missing script interpreter or dynamic loader */
    return shim_fail_code(e, SHIM_EXIT_NOT_FOUND, err, "exec: \"%s\": execve %s: no such file or directory", cmd, resolved);
  if (err == EACCES) return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, err, "exec: \"%s\": execve %s: permission denied", cmd, resolved);
  return shim_fail_code(e, SHIM_EXIT_NOT_EXECUTABLE, err, "exec: \"%s\": execve %s: %s", cmd, resolved, strerror(err));
}
