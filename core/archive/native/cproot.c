/*
 * mini-docker-cproot: every file operation of `cp` (the archive API), done by a process whose
 * root IS the container's root, so the kernel resolves every path and every symlink inside the
 * container ("/" and ".." stop at its root) and no path is ever walked from the host's root.
 *
 *   mini-docker-cproot running PID SHIMPID [userns]   a running container: joins the mount
 *       namespace of its init PID (through a pidfd, taken and checked to be SHIMPID's child while
 *       it is alive), and with "userns" its user namespace too (then acts as the container's root:
 *       uid and gid 0 there), and chroots into that process's root;
 *   mini-docker-cproot view PID ROOT                   a stopped one: joins the mount namespace of
 *       mini-docker-rootview PID and chroots into ROOT there.
 *
 * It dies with its parent (PR_SET_PDEATHSIG, set again after a change of credentials), prints
 * nothing until asked, and serves requests on stdin until its end. A request is one op byte and
 * its fields, each a 32-bit little-endian length and that many bytes (numbers in decimal); each
 * answer, in order, is a 32-bit errno (0: done) and a 32-bit length of its payload, then the
 * payload (on failure: the message). Answers are flushed whenever no request is waiting, so a
 * client that sends many requests at once gets their answers in few writes. A field that is not
 * data (a file's bytes, an xattr's value) holding a NUL byte is refused (EINVAL), not cut short;
 * an answer over MAX_ANSWER (128 MiB; MINI_DOCKER_CPROOT_MAX_ANSWER may lower it) fails with
 * EOVERFLOW and one line saying so.
 *
 * Every lookup starts from the root held open, with openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS:
 * a file is opened that way (O_NOFOLLOW), and any other call opens the path's folder that way
 * and acts on the last component with its *at form (fstatat, mkdirat, symlinkat, linkat,
 * fchownat, fchmodat2, utimensat, mknodat, unlinkat; the xattr calls from inside the folder), so
 * no magic link of the container's /proc (a process's cwd, root or fd, which lead wherever its
 * processes are) is followed anywhere on the way, and a removal walks descriptors, crossing no
 * link and no mount (mount ids compared: a bind of the same file system is a mount too), at most
 * MAX_DEPTH folders deep. A file to read is held with O_PATH first, checked to be the regular file
 * walked, and opened for reading through that descriptor (/proc/self/fd, held since before the
 * chroot): a fifo swapped in is never opened (which would block), a device node never opened.
 *
 *   l PATH / s PATH          lstat / stat: mode uid gid nlink size ino dev rdev mtime_s mtime_ns (10 x int64)
 *   k PATH                   readlink: the target
 *   d PATH                   the names in a folder: (u32 length, name)...
 *   x PATH                   its xattrs, not following a link: (u32 length, name, u32 length, value)...
 *   g PATH DEV INO SIZE      a small file's bytes (O_NOFOLLOW; must still be the regular file DEV:INO, else ESTALE)
 *   o PATH DEV INO           opens a file to read (same checks): a u32 handle
 *   r HANDLE OFFSET LENGTH   up to LENGTH bytes at OFFSET (fewer at the end)
 *   c HANDLE                 closes a handle
 *   m PATH MODE              mkdir
 *   W PATH MODE UID GID MTIME DATA   a whole file: created O_EXCL|O_NOFOLLOW, written, owned (UID "" leaves
 *                                    the owner), moded, timed, closed; EEXIST when something is there
 *   f PATH                   creates a file (O_EXCL|O_NOFOLLOW, 0600) to write: a u32 handle
 *   w HANDLE DATA            appends DATA
 *   F HANDLE MODE UID GID MTIME      owns, modes, times and closes it
 *   R PATH                   removes PATH and what is under it, following no link (missing: done)
 *   y TARGET PATH            symlink;  h EXISTING PATH: link (the existing path's last link not followed)
 *   O PATH UID GID           lchown;  M PATH MODE: chmod;  T PATH SEC NSEC: utimes, not following a link
 *   n PATH MODE MAJOR MINOR  mknod (MODE has the type bits);  X PATH NAME VALUE: lsetxattr
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "request.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6, the same number on every architecture */
#endif

#define MAX_FIELD ((1u << 20) + 4096) /* a write's data is at most 1 MiB; paths 4 KiB */
#define MAX_HANDLES 64
#define MAX_READ (1u << 20)
/* An answer's payload is at most this (a folder of a million long names is still under it); the
 * wire's length is a u32, so never more than UINT32_MAX. MINI_DOCKER_CPROOT_MAX_ANSWER lowers it. */
#define MAX_ANSWER ((size_t)128 << 20)
/* A removal holds one descriptor per folder level: deeper trees are refused with a clear error. */
#define MAX_DEPTH 512

static size_t max_answer = MAX_ANSWER;
static int answer_too_big; /* set when add() refused to grow an answer past max_answer */
/* The process's /proc/<pid>/fd, opened before it left the host's root: a file an O_PATH descriptor
 * holds is reopened through it (never through a path of the container's, whose /proc is not ours). */
static int proc_fd = -1;

static void cleanup_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define cleanup_close __attribute__((cleanup(cleanup_fd)))

static void cleanup_mem(void *p)
{
	free(*(void **)p);
}
#define cleanup_free __attribute__((cleanup(cleanup_mem)))

/* Bytes gathered in memory, grown by doubling from a first size: the answers waiting to be
 * written, the payload of the answer being built. */
struct buffer {
	unsigned char *data;
	size_t len, cap;
};

static int buffer_add(struct buffer *b, const void *data, size_t n, size_t first)
{
	if (n > SIZE_MAX / 4 - b->len) {
		errno = EOVERFLOW;
		return -1;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap == 0 ? first : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *grown = realloc(b->data, cap);
		if (grown == NULL)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

/* The pipes: stdin read in big blocks, answers gathered and written when stdin has nothing more. */
struct io {
	unsigned char in[1 << 16];
	size_t in_pos, in_len;
	struct buffer out;
	int handles[MAX_HANDLES];
	int root; /* "/" once chrooted: where every lookup starts */
};

static int flush_out(struct io *io)
{
	size_t done = 0;
	while (done < io->out.len) {
		ssize_t n = write(STDOUT_FILENO, io->out.data + done, io->out.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	io->out.len = 0;
	return 0;
}

static int put(struct io *io, const void *data, size_t n)
{
	if (buffer_add(&io->out, data, n, 1 << 16) < 0)
		return -1;
	/* Big answers (file data) go out at once rather than piling up. */
	return io->out.len >= (1 << 20) ? flush_out(io) : 0;
}

static int put_u32(struct io *io, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	return put(io, b, 4);
}

/* 1 when n bytes were read, 0 at a clean end of input before any, -1 otherwise. */
static int take(struct io *io, void *buffer, size_t n)
{
	size_t done = 0;
	while (done < n) {
		if (io->in_pos == io->in_len) {
			if (flush_out(io) < 0) /* nothing waiting: the answers so far go out */
				return -1;
			ssize_t got = read(STDIN_FILENO, io->in, sizeof io->in);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				return got == 0 && done == 0 ? 0 : -1;
			io->in_pos = 0;
			io->in_len = (size_t)got;
		}
		size_t chunk = io->in_len - io->in_pos < n - done ? io->in_len - io->in_pos : n - done;
		memcpy((char *)buffer + done, io->in + io->in_pos, chunk);
		io->in_pos += chunk;
		done += chunk;
	}
	return 1;
}

static int fields_of(int op)
{
	switch (op) {
	case 'l': case 's': case 'k': case 'd': case 'x': case 'c': case 'f': case 'R': return 1;
	case 'm': case 'M': case 'w': case 'y': case 'h': return 2;
	case 'o': case 'r': case 'O': case 'T': case 'X': return 3;
	case 'g': case 'n': return 4;
	case 'F': return 5;
	case 'W': return 6;
	default: return -1;
	}
}

static int read_io(void *io, void *buffer, size_t n)
{
	return take(io, buffer, n);
}

static int read_request(struct io *io, struct request *req)
{
	return read_request_from(read_io, io, fields_of, MAX_FIELD, req);
}

static int number(const struct field *field, long long *out)
{
	char *end = NULL;
	errno = 0;
	*out = strtoll(field->data, &end, 10);
	return errno != 0 || end == field->data || *end != '\0' ? -1 : 0;
}

/* Opens `path` from the root: no magic link (/proc/<pid>/fd/...) is followed on the way. */
static int open_in_root(const struct io *io, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC), .mode = mode, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, io->root, path, &how, sizeof how);
}

static int open_file(const struct io *io, const char *path, int flags, mode_t mode)
{
	return open_in_root(io, path, flags | O_NOFOLLOW, mode);
}

/* Opens again, with `flags`, the very file an O_PATH descriptor holds (through proc_fd). */
static int reopen(int fd, int flags)
{
	char name[16];
	snprintf(name, sizeof name, "%d", fd);
	return openat(proc_fd, name, flags | O_CLOEXEC);
}

/* A path's folder, held (opened with open_in_root), and its last component ("." for "/"). */
struct at {
	int fd;
	char name[4096];
};

static void cleanup_at(struct at *at)
{
	if (at->fd >= 0)
		close(at->fd);
}
#define cleanup_at_fd __attribute__((cleanup(cleanup_at)))

static int at_open(const struct io *io, const char *path, struct at *at)
{
	char copy[4096];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof copy) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(copy, path, len + 1);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	const char *parent = slash == NULL ? "." : slash == copy ? "/" : copy;
	const char *name = slash == NULL ? copy : slash + 1;
	if (slash != NULL && slash != copy)
		*slash = '\0';
	snprintf(at->name, sizeof at->name, "%s", *name != '\0' ? name : ".");
	at->fd = open_in_root(io, parent, O_PATH | O_DIRECTORY, 0);
	return at->fd < 0 ? -1 : 0;
}

/* Runs in the folder held (for calls that take only a path: xattrs), back in "/" after. */
static int enter_at(const struct at *at)
{
	return fchdir(at->fd);
}

static void leave_at(const struct io *io)
{
	if (fchdir(io->root) < 0)
		abort(); /* "/" is held open: cannot fail */
}

static int write_all(int fd, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The payload of an answer being built (an answer's header needs its length first), at most max_answer. */
static int add(struct buffer *p, const void *data, size_t n)
{
	if (n > max_answer - p->len) {
		answer_too_big = 1;
		errno = EOVERFLOW;
		return -1;
	}
	return buffer_add(p, data, n, 4096);
}

static int add_u32(struct buffer *p, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	return add(p, b, 4);
}

static int add_stat(struct buffer *p, const struct stat *st)
{
	int64_t v[10] = { st->st_mode, st->st_uid, st->st_gid, (int64_t)st->st_nlink, st->st_size, (int64_t)st->st_ino,
			  (int64_t)st->st_dev, (int64_t)st->st_rdev, st->st_mtim.tv_sec, st->st_mtim.tv_nsec };
	return add(p, v, sizeof v); /* little-endian hosts only, as the daemon's Buffer reads them */
}

static int handle_slot(struct io *io, int fd)
{
	for (int i = 0; i < MAX_HANDLES; i++) {
		if (io->handles[i] < 0) {
			io->handles[i] = fd;
			return i;
		}
	}
	return -1;
}

static int handle_fd(struct io *io, const struct field *field)
{
	long long h;
	if (number(field, &h) < 0 || h < 0 || h >= MAX_HANDLES || io->handles[h] < 0) {
		errno = EBADF;
		return -1;
	}
	return io->handles[h];
}

/* Whether the folder `fd`, in the folder `dir`, is another mount than `dir`'s: a bind of a folder of
 * the same file system has the same st_dev, so the mount ids are compared (statx, Linux 5.8), or
 * the kernel's "root of a mount" attribute read, or (neither known) the devices. */
static int crosses_mount(int dir, int fd)
{
	struct statx inner, outer;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &inner) < 0 ||
	    statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &outer) < 0)
		return -1;
	if ((inner.stx_mask & STATX_MNT_ID) && (outer.stx_mask & STATX_MNT_ID))
		return inner.stx_mnt_id != outer.stx_mnt_id;
	if (inner.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (inner.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return inner.stx_dev_major != outer.stx_dev_major || inner.stx_dev_minor != outer.stx_dev_minor;
}

/* Removes `name` in the folder `dir` and what is under it, descriptor by descriptor: no link is
 * followed, no mount crossed (EBUSY), no deeper than MAX_DEPTH folders (`*deep` set, ELOOP). */
static int remove_at(int dir, const char *name, int depth, int *deep)
{
	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -1;
	if (depth >= MAX_DEPTH) {
		*deep = 1;
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int crossing = crosses_mount(dir, fd);
	if (crossing != 0) {
		int saved = errno;
		close(fd);
		errno = crossing > 0 ? EBUSY : saved; /* a mount: its content is not this folder's */
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			r = remove_at(dirfd(d), e->d_name, depth + 1, deep);
	}
	int saved = errno;
	closedir(d);
	if (r < 0) {
		errno = saved;
		return -1;
	}
	return unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

/* A file's xattrs, `name` in the current folder, not following a link: (u32 length, name, u32 length, value)... */
static int list_xattrs(const char *name, struct buffer *p, const char **what)
{
	ssize_t size = llistxattr(name, NULL, 0);
	if (size < 0)
		return errno == ENOTSUP ? 0 : -1;
	if (size == 0)
		return 0;
	cleanup_free char *names = malloc((size_t)size);
	if (names == NULL || (size = llistxattr(name, names, (size_t)size)) < 0)
		return -1;
	for (char *attr = names; attr < names + size; attr += strlen(attr) + 1) {
		*what = "lgetxattr";
		char value[65536];
		ssize_t n = lgetxattr(name, attr, value, sizeof value);
		if (n < 0 && errno == ENODATA)
			continue; /* removed meanwhile */
		if (n < 0)
			return -1;
		size_t len = strlen(attr);
		if (add_u32(p, (uint32_t)len) < 0 || add(p, attr, len) < 0 || add_u32(p, (uint32_t)n) < 0 || add(p, value, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* Owns, modes and times an open file we made (chown first: it clears setuid and setgid). */
static int finish_file(int fd, const struct field *mode_f, const struct field *uid_f, const struct field *gid_f, const struct field *mtime_f)
{
	long long mode, uid, gid, mtime;
	if (number(mode_f, &mode) < 0 || number(mtime_f, &mtime) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (uid_f->length > 0) {
		if (number(uid_f, &uid) < 0 || number(gid_f, &gid) < 0) {
			errno = EINVAL;
			return -1;
		}
		if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
			return -1;
	}
	if (fchmod(fd, (mode_t)mode) < 0)
		return -1;
	struct timespec times[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	return futimens(fd, times);
}

/* Performs one request into `p`; returns 0 or -1 with errno, `what` naming the call that failed. */
static int perform(struct io *io, const struct request *req, struct buffer *p, const char **what)
{
	const char *path = req->f[0].data;
	struct stat st;
	long long a, b, c;
	/* Every field but data (a file's bytes, an xattr's value) is a string: a NUL would cut it short. */
	for (int i = 0; i < req->count; i++) {
		int data = (req->op == 'W' && i == 5) || (req->op == 'w' && i == 1) || (req->op == 'X' && i == 2);
		if (!data && strlen(req->f[i].data) != req->f[i].length) {
			*what = "a NUL byte in a field of the request on";
			errno = EINVAL;
			return -1;
		}
	}
	/* Calls on a path act on its last component in its folder, opened from the root (open_in_root). */
	cleanup_at_fd struct at at = { .fd = -1 };
	if (strchr("lkxmROMTnX", req->op) != NULL && at_open(io, path, &at) < 0) {
		*what = "open the folder of";
		return -1;
	}
	switch (req->op) {
	case 'l':
		*what = "lstat";
		return fstatat(at.fd, at.name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : add_stat(p, &st);
	case 's': {
		*what = "stat";
		cleanup_close int fd = open_in_root(io, path, O_PATH, 0);
		return fd < 0 || fstat(fd, &st) < 0 ? -1 : add_stat(p, &st);
	}
	case 'k': {
		*what = "readlink";
		char target[4096];
		ssize_t n = readlinkat(at.fd, at.name, target, sizeof target);
		return n < 0 ? -1 : add(p, target, (size_t)n);
	}
	case 'd': {
		*what = "readdir";
		cleanup_close int fd = open_file(io, path, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0)
			return -1;
		DIR *dir = fdopendir(fd);
		if (dir == NULL)
			return -1;
		fd = -1; /* the DIR owns it */
		struct dirent *e;
		int r = 0;
		errno = 0;
		while (r == 0 && (e = readdir(dir)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			size_t n = strlen(e->d_name);
			r = add_u32(p, (uint32_t)n) < 0 || add(p, e->d_name, n) < 0 ? -1 : 0;
		}
		int saved = errno;
		closedir(dir);
		errno = saved;
		return r < 0 || errno != 0 ? -1 : 0;
	}
	case 'x': {
		*what = "llistxattr";
		if (enter_at(&at) < 0)
			return -1;
		int r = list_xattrs(at.name, p, what);
		int saved = errno;
		leave_at(io);
		errno = saved;
		return r;
	}
	case 'g':
	case 'o': {
		*what = "open";
		if (number(&req->f[1], &a) < 0 || number(&req->f[2], &b) < 0 || (req->op == 'g' && number(&req->f[3], &c) < 0)) {
			errno = EINVAL;
			return -1;
		}
		/* Held first (O_PATH opens nothing: a fifo swapped in would block an open for reading,
		 * a device node's open has side effects), checked to be the regular file walked, then
		 * opened for reading through the descriptor held, never through the path again. */
		cleanup_close int held = open_file(io, path, O_PATH, 0);
		if (held < 0 || fstat(held, &st) < 0)
			return -1;
		if (!S_ISREG(st.st_mode) || (long long)st.st_dev != a || (long long)st.st_ino != b) {
			*what = "open (the file changed while it was being archived)";
			errno = ESTALE;
			return -1;
		}
		cleanup_close int fd = reopen(held, O_RDONLY | O_NOCTTY);
		if (fd < 0)
			return -1;
		if (req->op == 'o') {
			int h = handle_slot(io, fd);
			if (h < 0) {
				errno = EMFILE;
				return -1;
			}
			fd = -1;
			return add_u32(p, (uint32_t)h);
		}
		if (c < 0 || c > (long long)MAX_READ) {
			errno = EINVAL;
			return -1;
		}
		cleanup_free char *data = malloc((size_t)c + 1);
		if (data == NULL)
			return -1;
		size_t done = 0;
		*what = "read";
		while (done < (size_t)c) {
			ssize_t n = pread(fd, data + done, (size_t)c - done, (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0)
				break; /* shrank meanwhile */
			done += (size_t)n;
		}
		return add(p, data, done);
	}
	case 'r': {
		*what = "read";
		int fd = handle_fd(io, &req->f[0]);
		if (fd < 0 || number(&req->f[1], &a) < 0 || number(&req->f[2], &b) < 0 || b < 0 || b > (long long)MAX_READ) {
			errno = errno == EBADF ? EBADF : EINVAL;
			return -1;
		}
		cleanup_free char *data = malloc((size_t)b + 1);
		if (data == NULL)
			return -1;
		ssize_t n;
		do
			n = pread(fd, data, (size_t)b, (off_t)a);
		while (n < 0 && errno == EINTR);
		return n < 0 ? -1 : add(p, data, (size_t)n);
	}
	case 'c': {
		*what = "close";
		int fd = handle_fd(io, &req->f[0]);
		if (fd < 0)
			return -1;
		io->handles[strtol(req->f[0].data, NULL, 10)] = -1;
		return close(fd);
	}
	case 'm':
		*what = "mkdir";
		if (number(&req->f[1], &a) < 0) {
			errno = EINVAL;
			return -1;
		}
		return mkdirat(at.fd, at.name, (mode_t)a);
	case 'W': {
		*what = "create";
		cleanup_close int fd = open_file(io, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return -1;
		*what = "write";
		if (write_all(fd, req->f[5].data, req->f[5].length) < 0)
			return -1;
		*what = "set the owner, mode and time of";
		if (finish_file(fd, &req->f[1], &req->f[2], &req->f[3], &req->f[4]) < 0)
			return -1;
		*what = "close";
		int r = close(fd);
		fd = -1;
		return r;
	}
	case 'f': {
		*what = "create";
		cleanup_close int fd = open_file(io, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return -1;
		int h = handle_slot(io, fd);
		if (h < 0) {
			errno = EMFILE;
			return -1;
		}
		fd = -1;
		return add_u32(p, (uint32_t)h);
	}
	case 'w': {
		*what = "write";
		int fd = handle_fd(io, &req->f[0]);
		return fd < 0 ? -1 : write_all(fd, req->f[1].data, req->f[1].length);
	}
	case 'F': {
		*what = "set the owner, mode and time of";
		int fd = handle_fd(io, &req->f[0]);
		if (fd < 0)
			return -1;
		io->handles[strtol(req->f[0].data, NULL, 10)] = -1;
		int r = finish_file(fd, &req->f[1], &req->f[2], &req->f[3], &req->f[4]);
		int saved = errno;
		if (close(fd) < 0 && r == 0)
			return -1;
		errno = saved;
		return r;
	}
	case 'R':
		*what = "remove";
		if (strcmp(at.name, ".") == 0 || strcmp(at.name, "..") == 0) {
			errno = EINVAL;
			return -1;
		}
		{
			int deep = 0;
			int r = remove_at(at.fd, at.name, 0, &deep);
			if (r < 0 && deep)
				*what = "remove (a tree deeper than 512 folders: remove it from inside the container)";
			return r;
		}
	case 'y': {
		*what = "symlink";
		cleanup_at_fd struct at to = { .fd = -1 };
		return at_open(io, req->f[1].data, &to) < 0 ? -1 : symlinkat(req->f[0].data, to.fd, to.name);
	}
	case 'h': {
		*what = "link";
		cleanup_at_fd struct at from = { .fd = -1 };
		cleanup_at_fd struct at to = { .fd = -1 };
		if (at_open(io, req->f[0].data, &from) < 0 || at_open(io, req->f[1].data, &to) < 0)
			return -1;
		return linkat(from.fd, from.name, to.fd, to.name, 0);
	}
	case 'O':
		*what = "lchown";
		if (number(&req->f[1], &a) < 0 || number(&req->f[2], &b) < 0) {
			errno = EINVAL;
			return -1;
		}
		return fchownat(at.fd, at.name, (uid_t)a, (gid_t)b, AT_SYMLINK_NOFOLLOW);
	case 'M':
		*what = "chmod";
		if (number(&req->f[1], &a) < 0) {
			errno = EINVAL;
			return -1;
		}
		/* Never through a link (fchmodat2, Linux 6.6): it is for folders and nodes the copy made. */
		if (syscall(SYS_fchmodat2, at.fd, at.name, (mode_t)a, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
		{
			/* Without fchmodat2: the entry held (O_PATH, not following a link), its type checked on
			 * what is held, and moded through that descriptor: a link swapped in is never followed. */
			cleanup_close int held = openat(at.fd, at.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (held < 0 || fstat(held, &st) < 0)
				return -1;
			if (S_ISLNK(st.st_mode)) {
				errno = ELOOP;
				return -1;
			}
			char name[16];
			snprintf(name, sizeof name, "%d", held);
			return fchmodat(proc_fd, name, (mode_t)a, 0);
		}
	case 'T': {
		*what = "utimes";
		if (number(&req->f[1], &a) < 0 || number(&req->f[2], &b) < 0) {
			errno = EINVAL;
			return -1;
		}
		struct timespec times[2] = { { .tv_sec = a, .tv_nsec = b }, { .tv_sec = a, .tv_nsec = b } };
		return utimensat(at.fd, at.name, times, AT_SYMLINK_NOFOLLOW);
	}
	case 'n': {
		long long mode, major, minor;
		*what = "mknod";
		if (number(&req->f[1], &mode) < 0 || number(&req->f[2], &major) < 0 || number(&req->f[3], &minor) < 0) {
			errno = EINVAL;
			return -1;
		}
		return mknodat(at.fd, at.name, (mode_t)mode, makedev(major, minor));
	}
	case 'X': {
		*what = "lsetxattr";
		if (enter_at(&at) < 0)
			return -1;
		int r = lsetxattr(at.name, req->f[1].data, req->f[2].data, req->f[2].length, 0);
		int saved = errno;
		leave_at(io);
		errno = saved;
		return r;
	}
	}
	errno = EINVAL;
	return -1;
}

static int fail(const char *what, int error)
{
	fprintf(stderr, "mini-docker-cproot: %s: %s\n", what, strerror(error));
	return 1;
}

/* Dies with the parent; false when the parent is already gone. */
static int die_with(pid_t parent)
{
	return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent;
}

static long parent_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	long ppid = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "PPid:", 5) == 0) {
			ppid = strtol(line + 5, NULL, 10);
			break;
		}
	}
	fclose(f);
	return ppid;
}

/* Joins a running container's init: its mount namespace (and user namespace), then its root. */
static int enter_running(pid_t pid, pid_t shim, int userns)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return fail("pidfd_open of the container's init", errno);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
	cleanup_close int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int opened = errno;
	/* The pid is the container's init only if the shim is its parent, checked while the pidfd's
	 * process still lives: then the /proc reads above were about that very process. */
	if (parent_of(pid) != shim)
		return fail("the container's init", ESRCH);
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return fail("the container's init", errno);
	if (root < 0)
		return fail(path, opened);
	if (setns(pidfd, CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) < 0)
		return fail("setns into the container's namespaces", errno);
	if (userns) {
		/* Its root, as nsenter --user does: what it makes is owned as the container's root. */
		if (setgroups(0, NULL) < 0)
			return fail("setgroups in the container's user namespace", errno);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return fail("becoming the container's root", errno);
	}
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return fail("chroot into the container's root", errno);
	return 0;
}

/* Joins a root view's mount namespace and chroots into the container's root there. */
static int enter_view(pid_t pid, const char *rootfs)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return fail("pidfd_open of the root view", errno);
	if (setns(pidfd, CLONE_NEWNS) < 0)
		return fail("setns into the root view", errno);
	if (chroot(rootfs) < 0 || chdir("/") < 0)
		return fail(rootfs, errno);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t parent = getppid();
	if (!die_with(parent))
		return 1;
	const char *cap = getenv("MINI_DOCKER_CPROOT_MAX_ANSWER");
	if (cap != NULL) {
		char *end = NULL;
		unsigned long long v = strtoull(cap, &end, 10);
		if (end != cap && *end == '\0' && v > 0 && v < max_answer)
			max_answer = (size_t)v;
	}
	proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return fail("open /proc/self/fd", errno);
	int r;
	if (argc >= 4 && argc <= 5 && strcmp(argv[1], "running") == 0 && (argc == 4 || strcmp(argv[4], "userns") == 0))
		r = enter_running((pid_t)atoi(argv[2]), (pid_t)atoi(argv[3]), argc == 5);
	else if (argc == 4 && strcmp(argv[1], "view") == 0)
		r = enter_view((pid_t)atoi(argv[2]), argv[3]);
	else {
		fprintf(stderr, "usage: mini-docker-cproot running PID SHIMPID [userns] | view PID ROOT\n");
		return 2;
	}
	if (r != 0)
		return r;
	if (!die_with(parent)) /* a change of credentials cleared it */
		return 1;
	umask(0);
	static struct io io;
	for (int i = 0; i < MAX_HANDLES; i++)
		io.handles[i] = -1;
	io.root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (io.root < 0)
		return fail("open the container's root", errno);
	struct request req = { 0 };
	struct buffer p = { 0 };
	for (;;) {
		r = read_request(&io, &req);
		if (r == 0)
			break;
		if (r < 0) {
			free_request(&req);
			fprintf(stderr, "mini-docker-cproot: a malformed request on stdin\n");
			return 2;
		}
		const char *what = "";
		p.len = 0;
		answer_too_big = 0;
		int ok = perform(&io, &req, &p, &what) == 0;
		int error = errno;
		if (!ok && answer_too_big) {
			char message[8192];
			int n = snprintf(message, sizeof message, "the answer to %s %s is over %zu bytes (%s): copy less at a time", what, req.f[0].data, max_answer, strerror(error));
			size_t len = n < 0 ? 0 : (size_t)n >= sizeof message ? sizeof message - 1 : (size_t)n;
			r = put_u32(&io, (uint32_t)error) < 0 || put_u32(&io, (uint32_t)len) < 0 || put(&io, message, len) < 0 ? -1 : 0;
		} else if (ok) {
			r = put_u32(&io, 0) < 0 || put_u32(&io, (uint32_t)p.len) < 0 || put(&io, p.data, p.len) < 0 ? -1 : 0;
		} else {
			char message[8192];
			int n = snprintf(message, sizeof message, "%s %s: %s", what, req.f[0].data, strerror(error));
			size_t len = n < 0 ? 0 : (size_t)n >= sizeof message ? sizeof message - 1 : (size_t)n;
			r = put_u32(&io, (uint32_t)(error == 0 ? EIO : error)) < 0 || put_u32(&io, (uint32_t)len) < 0 || put(&io, message, len) < 0 ? -1 : 0;
		}
		free_request(&req);
		if (r < 0)
			return 1;
	}
	free(p.data);
	return flush_out(&io) < 0 ? 1 : 0;
}
