/*
 * mini-docker-xattrs: reads the extended attributes of every file of a tree, for as many trees as
 * it is asked, as one long-lived process: the daemon starts it once instead of one `getfattr -R`
 * per tree (forking the daemon costs it milliseconds of CPU each time, more than the rest of a
 * one-file commit).
 *
 * A request on stdin is the op byte 'r' followed by one field, a 32-bit little-endian length and
 * that many bytes: the path to start at. The tree is walked without following symbolic links (as
 * `getfattr -R -P`); the path itself is read too (a symbolic link as itself). The answer on stdout is what `getfattr -R -P -h -d -m - -e hex
 * --absolute-names` prints: for each file with attributes a line "# file: PATH", a line
 * "NAME=0xHEX" per attribute and an empty line, with every byte of PATH and NAME outside '!'..'~'
 * and every backslash written as \ooo, and every '=' of NAME too (as getfattr quotes it), so that
 * the first '=' of an attribute's line ends its name (a name may hold '=', a value is hex); then, for each file it could not read, a line "\001warn
 * WHAT PATH: REASON" (WHAT, e.g. an attribute's name, and PATH quoted the same way, so that no name
 * can make a line of its own), and at the end a line "\001end". It exits 0 at the end of its
 * input, 2 on a malformed one.
 *
 * The op byte 's' with the same field asks for syncfs(2) of the file system that holds the path
 * (what `sync -f PATH` does, without a process per call): the answer is a line "\001end", after a
 * line "\001warn syncfs PATH: ERROR" when it failed. A process that syncs answers nothing else
 * meanwhile, so the daemon keeps one for syncs apart from the one that reads xattrs.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "read-exact.h"

#define MAX_PATH_FIELD (1u << 16)
#define MAX_WARNINGS 20

static int warnings;

/* Writes `text` with its bytes outside '!'..'~' and its backslashes as \ooo, and its '=' too
 * when `is_name` (an attribute's name: its line's first '=' must be the one before the value). */
static void put_quoted(const char *text, size_t length, int is_name)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < '!' || c > '~' || c == '\\' || (is_name && c == '='))
			printf("\\%03o", c);
		else
			putchar(c);
	}
}

/* A line "\001warn WHAT PATH: REASON", WHAT and PATH quoted as names are (an attribute's name is
 * any bytes: raw, a newline in it would start a line of its own, a forged "# file:" or "\001end"). */
static void warn_text(const char *path, const char *what, const char *reason)
{
	if (warnings++ >= MAX_WARNINGS)
		return;
	fputs("\001warn ", stdout);
	put_quoted(what, strlen(what), 1);
	putchar(' ');
	put_quoted(path, strlen(path), 0);
	printf(": %s\n", reason);
}

static void warn(const char *path, const char *what, int error)
{
	warn_text(path, what, strerror(error));
}

/* The attribute names of `path` (NUL-separated) in a new buffer; its size in *size; NULL on error (errno set). */
static char *list_names(const char *path, ssize_t *size)
{
	for (;;) {
		ssize_t wanted = llistxattr(path, NULL, 0);
		if (wanted <= 0) {
			*size = wanted;
			return NULL;
		}
		char *names = malloc((size_t)wanted);
		if (names == NULL) {
			warn(path, "listxattr", ENOMEM);
			*size = 0; /* warned here: the caller warns of size < 0 only */
			return NULL;
		}
		ssize_t got = llistxattr(path, names, (size_t)wanted);
		if (got >= 0) {
			*size = got;
			return names;
		}
		free(names);
		if (errno != ERANGE)
			return NULL;
	}
}

static void dump_value(const char *path, const char *name)
{
	for (;;) {
		ssize_t wanted = lgetxattr(path, name, NULL, 0);
		if (wanted < 0) {
			warn(path, name, errno);
			return;
		}
		unsigned char *value = malloc((size_t)wanted + 1);
		if (value == NULL) {
			warn(path, name, ENOMEM);
			return;
		}
		ssize_t got = lgetxattr(path, name, value, (size_t)wanted);
		if (got >= 0) {
			put_quoted(name, strlen(name), 1);
			fputs("=0x", stdout);
			for (ssize_t i = 0; i < got; i++)
				printf("%02x", value[i]);
			putchar('\n');
			free(value);
			return;
		}
		free(value);
		if (errno != ERANGE) {
			warn(path, name, errno);
			return;
		}
	}
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DNR) {
		/* nftw does not say why it could not open the folder, and errno is whatever its last
		 * call left: open it again for the reason. */
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			warn(path, "cannot read the folder", errno);
		} else {
			close(fd);
			warn_text(path, "cannot read the folder", "it could not be opened during the walk (it can now)");
		}
	}
	if (type == FTW_NS) {
		warn(path, "cannot stat", errno);
		return 0;
	}
	ssize_t size = 0;
	char *names = list_names(path, &size);
	if (names == NULL) {
		if (size < 0 && errno != ENOTSUP && errno != ENOENT)
			warn(path, "listxattr", errno);
		return 0;
	}
	fputs("# file: ", stdout);
	put_quoted(path, strlen(path), 0);
	putchar('\n');
	for (char *name = names; name < names + size; name += strlen(name) + 1)
		if (*name != '\0')
			dump_value(path, name);
	putchar('\n');
	free(names);
	return 0;
}


/* syncfs(2) of the file system holding `path`; warns when it could not. */
static void sync_filesystem(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		warn(path, "syncfs", errno);
		return;
	}
	if (syncfs(fd) != 0)
		warn(path, "syncfs", errno);
	close(fd);
}

int main(void)
{
	for (;;) {
		unsigned char op;
		int r = read_exact(&op, 1);
		if (r == 0)
			return 0;
		unsigned char size[4];
		if (r < 0 || (op != 'r' && op != 's') || read_exact(size, 4) != 1)
			break;
		uint32_t length = (uint32_t)size[0] | (uint32_t)size[1] << 8 | (uint32_t)size[2] << 16 | (uint32_t)size[3] << 24;
		if (length == 0 || length > MAX_PATH_FIELD)
			break;
		char *path = malloc(length + 1);
		if (path == NULL || read_exact(path, length) != 1) {
			free(path);
			break;
		}
		path[length] = '\0';
		warnings = 0;
		if (op == 's')
			sync_filesystem(path);
		else if (nftw(path, visit, 64, FTW_PHYS) != 0)
			warn(path, "cannot walk", errno);
		if (warnings > MAX_WARNINGS)
			printf("\001warn and %d more\n", warnings - MAX_WARNINGS);
		fputs("\001end\n", stdout);
		free(path);
		/* The caller waits for the whole answer before it goes on. */
		if (fflush(stdout) != 0)
			return 1;
	}
	fprintf(stderr, "mini-docker-xattrs: a malformed request on stdin\n");
	return 2;
}
