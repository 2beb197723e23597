/* The one versioned message schema between shim and daemon (mirrored in ../shim-protocol.ts).
 * Frame: 1 byte type, 4 bytes big-endian payload length, payload. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "io/bytes.h"

#define SHIM_PROTOCOL_VERSION 1
#define FRAME_HEADER_LEN 5
#define FRAME_MAX_PAYLOAD (4u << 20)

enum frame_type {
  /* shim -> daemon */
  FRAME_HELLO = 1,   /* version u16, shimPid u32, initPid u32 */
  FRAME_OUTPUT = 2,  /* stream u8 (1 stdout, 2 stderr), offset u64, data */
  FRAME_EXIT = 3,    /* exitCode i32, signal i32, finishedAt (RFC 3339 nano UTC text) */
  FRAME_ERROR = 4,   /* text */
  FRAME_STARTED = 5, /* exec mode: pid u32 (host view), start time u64 (/proc/<pid>/stat field 22; older shims: the pid alone) */
  /* daemon -> shim */
  FRAME_STDIN = 16,       /* data */
  FRAME_STDIN_CLOSE = 17, /* empty */
  FRAME_RESIZE = 18,      /* rows u16, cols u16 */
  FRAME_SIGNAL = 19,      /* signo u32 */
  FRAME_ACK = 20,         /* offset u64 */
};

enum { STREAM_STDOUT = 1, STREAM_STDERR = 2 };

struct frame {
  uint8_t type;
  uint32_t len;
  const uint8_t *payload;
};

/* Appends one frame to out. Returns -1 on allocation failure. */
int frame_append(struct bytes *out, uint8_t type, const void *payload, size_t len);
int frame_append_hello(struct bytes *out, uint32_t shim_pid, uint32_t init_pid);
int frame_append_output_header(struct bytes *out, uint8_t stream, uint64_t offset, size_t data_len);
int frame_append_exit(struct bytes *out, int32_t code, int32_t sig, const char *finished_at);
int frame_append_u32(struct bytes *out, uint8_t type, uint32_t v);
/* STARTED: the exec'd process's pid (u32) and its start time (u64, /proc/<pid>/stat field 22, 0 unknown). */
int frame_append_started(struct bytes *out, uint32_t pid, uint64_t start_time);

/* Parses the first complete frame of buf. Returns 1 and fills f, 0 if incomplete, -1 if too big. */
int frame_parse(const uint8_t *buf, size_t len, struct frame *f);

uint16_t get_be16(const uint8_t *p);
uint32_t get_be32(const uint8_t *p);
uint64_t get_be64(const uint8_t *p);
