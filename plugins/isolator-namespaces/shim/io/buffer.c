#include "io/buffer.h"

#include <stdlib.h>
#include <string.h>

void out_buffer_init(struct out_buffer *b, size_t limit) {
  *b = (struct out_buffer){.limit = limit};
}

size_t out_buffer_space(const struct out_buffer *b) {
  if (b->used + CHUNK_OVERHEAD >= b->limit) return 0;
  return b->limit - b->used - CHUNK_OVERHEAD;
}

int out_buffer_add(struct out_buffer *b, uint8_t stream, const void *data, size_t len) {
  struct chunk *c = malloc(sizeof *c + len);
  if (!c) return -1;
  *c = (struct chunk){.offset = b->next_offset, .len = (uint32_t)len, .stream = stream};
  memcpy(c->data, data, len);
  if (b->tail) b->tail->next = c;
  else b->head = c;
  b->tail = c;
  b->used += len + CHUNK_OVERHEAD;
  b->next_offset += len;
  return 0;
}

void out_buffer_ack(struct out_buffer *b, uint64_t offset) {
  while (b->head && b->head->offset + b->head->len <= offset) {
    struct chunk *c = b->head;
    b->head = c->next;
    if (!b->head) b->tail = NULL;
    /* Everything up to the last sent chunk is gone: the next to send is the new head. */
    if (c == b->last_sent) b->last_sent = NULL;
    b->used -= c->len + CHUNK_OVERHEAD;
    free(c);
  }
}

void out_buffer_rewind(struct out_buffer *b) {
  b->last_sent = NULL;
}

const struct chunk *out_buffer_take_unsent(struct out_buffer *b) {
  struct chunk *next = b->last_sent ? b->last_sent->next : b->head;
  if (next) b->last_sent = next;
  return next;
}

int out_buffer_empty(const struct out_buffer *b) {
  return b->head == NULL;
}

void out_buffer_free(struct out_buffer *b) {
  out_buffer_ack(b, UINT64_MAX);
}
