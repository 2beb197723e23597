#include "user.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fclosep(FILE **f) {
  if (*f) fclose(*f);
}

static int parse_id(const char *s, unsigned long *out) {
  if (!*s) return -1;
  char *end;
  errno = 0;
  unsigned long n = strtoul(s, &end, 10);
  if (errno || *end || n > 0xfffffffeUL) return -1;
  *out = n;
  return 0;
}

/* Splits a colon-separated record in place into at most max fields; returns the field count. */
static size_t split_fields(char *line, char **fields, size_t max) {
  size_t n = 0;
  line[strcspn(line, "\n")] = '\0';
  while (n < max) {
    fields[n++] = line;
    char *c = strchr(line, ':');
    if (!c) break;
    *c = '\0';
    line = c + 1;
  }
  return n;
}

struct passwd_entry {
  char name[256];
  uid_t uid;
  gid_t gid;
  char home[PATH_MAX];
};

/* Finds a passwd entry by name (name != NULL) or by uid. Returns 1 found, 0 not found. */
static int find_passwd(const char *name, uid_t uid, struct passwd_entry *out) {
  __attribute__((cleanup(fclosep))) FILE *f = fopen("/etc/passwd", "re");
  if (!f) return 0;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char *fld[7];
    unsigned long id, gid;
    if (split_fields(line, fld, 7) < 7 || parse_id(fld[2], &id) < 0 || parse_id(fld[3], &gid) < 0) continue;
    if (name ? strcmp(fld[0], name) != 0 : id != uid) continue;
    snprintf(out->name, sizeof out->name, "%s", fld[0]);
    out->uid = (uid_t)id;
    out->gid = (gid_t)gid;
    snprintf(out->home, sizeof out->home, "%s", fld[5][0] ? fld[5] : "/");
    return 1;
  }
  return 0;
}

static int member_of(char *members, const char *name) {
  char *save = NULL;
  for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
    if (strcmp(m, name) == 0) return 1;
  return 0;
}

/* Looks up a group by name (returns 1 and sets *gid) and collects the groups user_name belongs to. */
static int scan_groups(const char *group_name, gid_t *gid, const char *user_name, struct user_ids *u) {
  __attribute__((cleanup(fclosep))) FILE *f = fopen("/etc/group", "re");
  if (!f) return 0;
  int found = 0;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char *fld[4];
    unsigned long id;
    if (split_fields(line, fld, 4) < 4 || parse_id(fld[2], &id) < 0) continue;
    if (group_name && !found && strcmp(fld[0], group_name) == 0) {
      *gid = (gid_t)id;
      found = 1;
    }
    if (user_name && u->n_groups < USER_MAX_GROUPS && member_of(fld[3], user_name)) u->groups[u->n_groups++] = (gid_t)id;
  }
  return found;
}

int user_resolve(const char *spec, struct user_ids *u, struct shim_err *e) {
  char buf[512];
  if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf) return shim_fail_code(e, SHIM_EXIT_OTHER, EINVAL, "user %s: too long", spec);
  char *group = strchr(buf, ':');
  if (group) *group++ = '\0';
  const char *user = buf[0] ? buf : "0";
  *u = (struct user_ids){0};
  snprintf(u->home, sizeof u->home, "/");

  struct passwd_entry pw;
  unsigned long id;
  int have_pw;
  if (parse_id(user, &id) == 0) {
    u->uid = (uid_t)id;
    have_pw = find_passwd(NULL, u->uid, &pw);
  } else {
    have_pw = find_passwd(user, 0, &pw);
    if (!have_pw) return shim_fail_code(e, SHIM_EXIT_OTHER, ENOENT, "unable to find user %s: no matching entries in passwd file", user);
    u->uid = pw.uid;
  }
  if (have_pw) {
    u->gid = pw.gid;
    snprintf(u->home, sizeof u->home, "%s", pw.home);
  }
  const char *group_name = NULL;
  if (group && *group) {
    if (parse_id(group, &id) == 0) u->gid = (gid_t)id;
    else group_name = group;
  }
  int found = scan_groups(group_name, &u->gid, have_pw ? pw.name : NULL, u);
  if (group_name && !found)
    return shim_fail_code(e, SHIM_EXIT_OTHER, ENOENT, "unable to find group %s: no matching entries in group file", group_name);
  return 0;
}

int user_switch(const struct user_ids *u, struct shim_err *e) {
  if (setgroups(u->n_groups, u->groups) < 0) return shim_fail(e, errno, "setgroups for uid %u", (unsigned)u->uid);
  if (setgid(u->gid) < 0) return shim_fail(e, errno, "setgid %u", (unsigned)u->gid);
  if (setuid(u->uid) < 0) return shim_fail(e, errno, "setuid %u", (unsigned)u->uid);
  return 0;
}
