/*
 * mini-docker-fsops: the file-system operations Node has no call for (mknod, lsetxattr), done for
 * a whole extraction by one process instead of one mknod/setfattr process per file.
 *
 * It reads requests from stdin and answers each, in order, with one line on stdout: "0" when it
 * worked, or "<errno>\t<message>" when it did not. A request is one op byte followed by its fields,
 * each a 32-bit little-endian length and that many bytes:
 *
 *   'm' path mode major minor   mknod(path, mode, makedev(major, minor)); mode holds the file type
 *                               bits (S_IFCHR, S_IFBLK, S_IFIFO) and the permissions, in decimal
 *   'x' path name value         lsetxattr(path, name, value): never through a symlink at path
 *
 * Paths are absolute and already resolved inside the extraction's root by the caller; the final
 * component is never followed (mknod creates it, lsetxattr does not follow). The umask is 0, so
 * modes are exactly what the archive says. It exits 0 at the end of its input, 2 on a malformed one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "read-exact.h"
#include "request.h"

#define MAX_FIELD (1u << 20) /* xattr values are at most 64 KiB on Linux; paths 4 KiB */

static int read_stdin(void *ctx, void *buffer, size_t n)
{
	(void)ctx;
	return read_exact(buffer, n);
}

static int fields_of(int op)
{
	switch (op) {
	case 'm': return 4;
	case 'x': return 3;
	default: return -1;
	}
}

/* 1 with a request, 0 at the end of input, -1 on a malformed request. */
static int read_request(struct request *req)
{
	return read_request_from(read_stdin, NULL, fields_of, MAX_FIELD, req);
}

static int parse_number(const struct field *field, unsigned long *out)
{
	char *end = NULL;
	errno = 0;
	*out = strtoul(field->data, &end, 10);
	return errno != 0 || end == field->data || *end != '\0' ? -1 : 0;
}

/* Performs one request; returns 0 or an errno value, with what failed in `what`. */
static int perform(const struct request *req, const char **what)
{
	const char *path = req->f[0].data;
	if (req->op == 'm') {
		unsigned long mode, major, minor;
		*what = "mknod";
		if (parse_number(&req->f[1], &mode) < 0 || parse_number(&req->f[2], &major) < 0 ||
		    parse_number(&req->f[3], &minor) < 0)
			return EINVAL;
		return mknod(path, (mode_t)mode, makedev(major, minor)) == 0 ? 0 : errno;
	}
	*what = "lsetxattr";
	const struct field *value = &req->f[2];
	return lsetxattr(path, req->f[1].data, value->data, value->length, 0) == 0 ? 0 : errno;
}

int main(void)
{
	umask(0);
	struct request req = { 0 };
	for (;;) {
		int r = read_request(&req);
		if (r == 0)
			break;
		if (r < 0) {
			free_request(&req);
			fprintf(stderr, "mini-docker-fsops: a malformed request on stdin\n");
			return 2;
		}
		const char *what = "";
		int error = perform(&req, &what);
		if (error == 0)
			fputs("0\n", stdout);
		else
			fprintf(stdout, "%d\t%s %s: %s\n", error, what, req.f[0].data, strerror(error));
		free_request(&req);
		/* Answers go out at once: the caller waits for each before its next step on that path. */
		if (fflush(stdout) != 0)
			return 1;
	}
	return 0;
}
