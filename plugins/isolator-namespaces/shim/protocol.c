#include "protocol.h"

#include <string.h>

static void put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put_be32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}
uint16_t get_be16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
uint32_t get_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
uint64_t get_be64(const uint8_t *p) {
  return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static int append_header(struct bytes *out, uint8_t type, size_t len) {
  uint8_t h[FRAME_HEADER_LEN];
  h[0] = type;
  put_be32(h + 1, (uint32_t)len);
  return bytes_append(out, h, sizeof h);
}

int frame_append(struct bytes *out, uint8_t type, const void *payload, size_t len) {
  if (append_header(out, type, len) < 0) return -1;
  return len ? bytes_append(out, payload, len) : 0;
}

int frame_append_hello(struct bytes *out, uint32_t shim_pid, uint32_t init_pid) {
  uint8_t p[10];
  put_be16(p, SHIM_PROTOCOL_VERSION);
  put_be32(p + 2, shim_pid);
  put_be32(p + 6, init_pid);
  return frame_append(out, FRAME_HELLO, p, sizeof p);
}

/* Only the header and the fixed fields: the caller appends data_len bytes of data after it. */
int frame_append_output_header(struct bytes *out, uint8_t stream, uint64_t offset, size_t data_len) {
  uint8_t p[9];
  p[0] = stream;
  put_be64(p + 1, offset);
  if (append_header(out, FRAME_OUTPUT, sizeof p + data_len) < 0) return -1;
  return bytes_append(out, p, sizeof p);
}

int frame_append_exit(struct bytes *out, int32_t code, int32_t sig, const char *finished_at) {
  size_t tlen = strlen(finished_at);
  uint8_t p[8];
  put_be32(p, (uint32_t)code);
  put_be32(p + 4, (uint32_t)sig);
  if (append_header(out, FRAME_EXIT, sizeof p + tlen) < 0) return -1;
  if (bytes_append(out, p, sizeof p) < 0) return -1;
  return bytes_append(out, finished_at, tlen);
}

int frame_append_u32(struct bytes *out, uint8_t type, uint32_t v) {
  uint8_t p[4];
  put_be32(p, v);
  return frame_append(out, type, p, sizeof p);
}

int frame_append_started(struct bytes *out, uint32_t pid, uint64_t start_time) {
  uint8_t p[12];
  put_be32(p, pid);
  put_be32(p + 4, (uint32_t)(start_time >> 32));
  put_be32(p + 8, (uint32_t)start_time);
  return frame_append(out, FRAME_STARTED, p, sizeof p);
}

int frame_parse(const uint8_t *buf, size_t len, struct frame *f) {
  if (len < FRAME_HEADER_LEN) return 0;
  uint32_t plen = get_be32(buf + 1);
  if (plen > FRAME_MAX_PAYLOAD) return -1;
  if (len < FRAME_HEADER_LEN + (size_t)plen) return 0;
  f->type = buf[0];
  f->len = plen;
  f->payload = buf + FRAME_HEADER_LEN;
  return 1;
}
