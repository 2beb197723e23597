/* A growable byte queue: append at the end, consume from the front. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct bytes {
  uint8_t *data;
  size_t len;
  size_t cap;
};

int bytes_append(struct bytes *b, const void *p, size_t n);
void bytes_consume(struct bytes *b, size_t n);
void bytes_reset(struct bytes *b);
void bytes_free(struct bytes *b);
