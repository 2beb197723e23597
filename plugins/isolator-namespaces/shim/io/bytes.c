#include "io/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bytes_append(struct bytes *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void bytes_consume(struct bytes *b, size_t n) {
  if (n >= b->len) {
    bytes_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

/* Empties the queue and gives back memory once it grew beyond a frame or two. */
void bytes_reset(struct bytes *b) {
  b->len = 0;
  if (b->cap > 64 * 1024) bytes_free(b);
}

void bytes_free(struct bytes *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
