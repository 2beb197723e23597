/* Output not yet acknowledged by the daemon, in order, bounded. Full means the shim stops reading
 * the container's output (its writes block); nothing is ever dropped. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct chunk {
  struct chunk *next;
  uint64_t offset; /* in the combined stdout+stderr sequence */
  uint32_t len;
  uint8_t stream;
  uint8_t data[];
};

struct out_buffer {
  struct chunk *head, *tail;
  struct chunk *last_sent; /* last chunk queued to the current client, NULL: none yet */
  size_t used;             /* data plus per-chunk overhead, so the limit bounds memory */
  size_t limit;
  uint64_t next_offset;
};

#define CHUNK_OVERHEAD 64

void out_buffer_init(struct out_buffer *b, size_t limit);
/* How many data bytes the next read may take (0: full). */
size_t out_buffer_space(const struct out_buffer *b);
int out_buffer_add(struct out_buffer *b, uint8_t stream, const void *data, size_t len);
/* Frees every chunk that ends at or before offset. */
void out_buffer_ack(struct out_buffer *b, uint64_t offset);
/* A new client: resend everything still held. */
void out_buffer_rewind(struct out_buffer *b);
/* The next chunk to send to the current client, marked as sent; NULL when all are sent. */
const struct chunk *out_buffer_take_unsent(struct out_buffer *b);
int out_buffer_empty(const struct out_buffer *b);
void out_buffer_free(struct out_buffer *b);
