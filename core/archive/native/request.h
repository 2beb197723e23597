/* The requests of the archive helpers (mini-docker-fsops, mini-docker-cproot): an op byte, then
 * the op's fields, each a 4-byte little-endian length and that many bytes (kept NUL-terminated in
 * memory). Each helper says how many fields an op has and how long one may be, and where the
 * bytes come from (stdin, or the server's own buffered reader). */
#ifndef MINI_DOCKER_REQUEST_H
#define MINI_DOCKER_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define REQUEST_MAX_FIELDS 6

struct field {
	char *data;
	uint32_t length;
};

struct request {
	int op;
	struct field f[REQUEST_MAX_FIELDS];
	int count;
};

static inline void free_request(struct request *req)
{
	for (int i = 0; i < req->count; i++)
		free(req->f[i].data);
	req->count = 0;
}

/* Reads exactly n bytes: 1 when read, 0 at a clean end of input before any byte, -1 otherwise. */
typedef int (*request_reader)(void *ctx, void *buffer, size_t n);

/* 1 with a request, 0 at the end of input, -1 on a malformed one (an op fields_of does not know,
 * a field longer than max_field). The fields read are freed by free_request, also after -1. */
static inline int read_request_from(request_reader read, void *ctx, int (*fields_of)(int op), uint32_t max_field, struct request *req)
{
	unsigned char op;
	req->count = 0;
	int r = read(ctx, &op, 1);
	if (r != 1)
		return r;
	int wanted = fields_of(op);
	if (wanted < 0 || wanted > REQUEST_MAX_FIELDS)
		return -1;
	req->op = op;
	for (int i = 0; i < wanted; i++) {
		unsigned char size[4];
		if (read(ctx, size, 4) != 1)
			return -1;
		uint32_t length = (uint32_t)size[0] | (uint32_t)size[1] << 8 | (uint32_t)size[2] << 16 | (uint32_t)size[3] << 24;
		if (length > max_field)
			return -1;
		req->f[i].data = malloc(length + 1);
		if (req->f[i].data == NULL)
			return -1;
		req->count++;
		req->f[i].length = length;
		req->f[i].data[length] = '\0';
		if (length > 0 && read(ctx, req->f[i].data, length) != 1)
			return -1;
	}
	return 1;
}

#endif
