#include "cgroup-devices.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What one rule adds: at most 8 instructions (type, access 3, major, minor, allow 2). */
#define INSNS_PER_RULE 8
#define MAX_INSNS (6 + SECURITY_MAX_DEVICE_RULES * INSNS_PER_RULE + 2)

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* Registers: r2 device type, r3 requested access, r4 major, r5 minor (from struct bpf_cgroup_dev_ctx). */
static size_t prologue(struct bpf_insn *p) {
  size_t n = 0;
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0); /* access_type: access << 16 | type */
  p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
  p[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  p[n++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
  return n;
}

/* One rule: each check that fails jumps past the block; when all pass, 1 (allowed). */
static size_t rule_block(struct bpf_insn *p, const struct device_rule *r) {
  size_t n = 0, jumps[4], nj = 0;
  if (r->type != 'a') {
    jumps[nj++] = n;
    p[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  }
  int access = (r->access & DEVICE_ACCESS_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0) | (r->access & DEVICE_ACCESS_READ ? BPF_DEVCG_ACC_READ : 0) |
               (r->access & DEVICE_ACCESS_WRITE ? BPF_DEVCG_ACC_WRITE : 0);
  if (access != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
    /* Anything asked beyond the rule's access: not this rule. */
    p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
    p[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ~access);
    jumps[nj++] = n;
    p[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 0, 0);
  }
  if (r->major >= 0) {
    jumps[nj++] = n;
    p[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, r->major);
  }
  if (r->minor >= 0) {
    jumps[nj++] = n;
    p[n++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, r->minor);
  }
  p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
  p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  for (size_t i = 0; i < nj; i++) p[jumps[i]].off = (int16_t)(n - jumps[i] - 1);
  return n;
}

static int build_program(const struct security_spec *s, struct bpf_insn *p) {
  size_t n = prologue(p);
  for (size_t i = 0; i < s->n_device_rules; i++) n += rule_block(p + n, &s->device_rules[i]);
  p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0); /* no rule matched: denied */
  p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return (int)n;
}

static int load_once(const struct bpf_insn *prog, int len, char *log, size_t log_size) {
  union bpf_attr load = {0};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)prog;
  load.insn_cnt = (uint32_t)len;
  load.license = (uint64_t)(uintptr_t)"Apache";
  if (log) {
    load.log_buf = (uint64_t)(uintptr_t)log;
    load.log_size = (uint32_t)log_size;
    load.log_level = 1;
  }
  return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
}

/* Loads the program; on a refusal, loads it again with the verifier's log to say why. */
static int load_program(const struct bpf_insn *prog, int len, struct shim_err *e) {
  int fd = load_once(prog, len, NULL, 0);
  if (fd >= 0) return fd;
  int err = errno;
  static char log[16384];
  log[0] = '\0';
  (void)load_once(prog, len, log, sizeof log);
  size_t n = strlen(log);
  while (n > 0 && log[n - 1] == '\n') log[--n] = '\0';
  const char *last = strrchr(log, '\n');
  return shim_fail(e, err, "device cgroup: bpf(BPF_PROG_LOAD) of %d instructions (the kernel needs CONFIG_CGROUP_BPF)%s%.160s", len,
                   log[0] ? ": " : "", last ? last + 1 : log);
}

static int is_cgroup2(const char *dir) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/cgroup.controllers", dir);
  return access(path, F_OK) == 0;
}

int cgroup_devices_attach(const struct spec *s, struct shim_err *e) {
  const struct security_spec *sec = &s->security;
  if (sec->n_device_rules == 0) return 0;
  struct bpf_insn prog[MAX_INSNS];
  int len = build_program(sec, prog);
  cleanup_close int prog_fd = -1;
  for (size_t i = 0; i < s->cgroups.n; i++) {
    const char *dir = s->cgroups.items[i];
    if (!is_cgroup2(dir)) continue;
    if (prog_fd < 0 && (prog_fd = load_program(prog, len, e)) < 0) return -1;
    cleanup_close int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) return shim_fail(e, errno, "device cgroup: open %s", dir);
    union bpf_attr attach = {0};
    attach.target_fd = (uint32_t)cg;
    attach.attach_bpf_fd = (uint32_t)prog_fd;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0) return shim_fail(e, errno, "device cgroup: bpf(BPF_PROG_ATTACH) to %s", dir);
  }
  return 0;
}
