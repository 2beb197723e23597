/*
 * mini-docker-rootview: a stopped container's filesystem, as the container would see it, in a
 * mount namespace of its own, for `cp` (the archive API) to read and write through
 * /proc/<its pid>/root<ROOT>. Nothing is mounted on the host: the namespace, and every mount in
 * it, goes away with this process, which dies with its parent (the daemon) or when its stdin ends.
 *
 *   mini-docker-rootview ROOT [-m TYPE SOURCE TARGET OPTIONS]... [-b SOURCE TARGET ro|rw]...
 *
 * -m mounts what the storage driver's mount specs say (OPTIONS comma-separated: the usual flag
 * words, the rest passed as data), in order; -b binds a host path onto a path inside ROOT,
 * resolved within ROOT (openat2 RESOLVE_IN_ROOT: a symlink in the container cannot send the bind
 * onto the host), making what is missing as the shim does at start. Then it prints "ready" and
 * waits for the end of its stdin. An error is one line on stderr and exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void cleanup_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define cleanup_close __attribute__((cleanup(cleanup_fd)))

static int fail(const char *what, const char *path, int error)
{
	fprintf(stderr, "mini-docker-rootview: %s %s: %s\n", what, path, strerror(error));
	return -1;
}

static int open_in_root(int root, const char *path, int flags)
{
	struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

struct flag_word {
	const char *word;
	unsigned long set;
};

static const struct flag_word FLAG_WORDS[] = {
	{ "ro", MS_RDONLY }, { "rw", 0 }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
	{ "bind", MS_BIND }, { "rbind", MS_BIND | MS_REC }, { "noatime", MS_NOATIME }, { "relatime", MS_RELATIME },
};

/* Splits OPTIONS into mount flags and the data string (written into `data`). */
static unsigned long parse_options(const char *options, char *data, size_t size)
{
	unsigned long flags = 0;
	data[0] = '\0';
	char *copy = strdup(options);
	if (copy == NULL)
		return 0;
	for (char *save = NULL, *word = strtok_r(copy, ",", &save); word != NULL; word = strtok_r(NULL, ",", &save)) {
		int known = 0;
		for (size_t i = 0; i < sizeof FLAG_WORDS / sizeof FLAG_WORDS[0]; i++) {
			if (strcmp(word, FLAG_WORDS[i].word) == 0) {
				flags |= FLAG_WORDS[i].set;
				known = 1;
			}
		}
		if (!known) {
			size_t used = strlen(data);
			snprintf(data + used, size - used, "%s%s", used > 0 ? "," : "", word);
		}
	}
	free(copy);
	return flags;
}

/*
 * An O_PATH fd of `path` inside root, made when missing: folders on the way, the last one a folder
 * (dir) or an empty file. Each component is looked up inside root; a link to something missing is
 * followed (still inside root) and what it names is made.
 */
static int make_in_root(int root, const char *path, int dir)
{
	char want[4096];
	if (snprintf(want, sizeof want, "%s", path) >= (int)sizeof want)
		return fail("bind target", path, ENAMETOOLONG);
	for (int links = 0; links < 40; links++) {
		int fd = open_in_root(root, want, O_PATH);
		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : fail("bind target", path, errno);
		/* Find the first missing component and make it (or follow the dangling link there). */
		char buf[4096];
		snprintf(buf, sizeof buf, "%s", want);
		int restarted = 0;
		for (char *p = buf + 1; !restarted; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char c = *p;
			*p = '\0';
			int last = c == '\0' || p[1] == '\0';
			cleanup_close int probe = open_in_root(root, buf, O_PATH);
			if (probe < 0 && errno != ENOENT)
				return fail("bind target", path, errno);
			if (probe < 0) {
				char *slash = strrchr(buf, '/');
				*slash = '\0';
				cleanup_close int parent = open_in_root(root, buf[0] != '\0' ? buf : "/", O_PATH | O_DIRECTORY);
				if (parent < 0)
					return fail("bind target", path, errno);
				char link[4096];
				ssize_t n = readlinkat(parent, slash + 1, link, sizeof link - 1);
				if (n >= 0) {
					link[n] = '\0';
					const char *rest = last ? "" : p + 1;
					int len = link[0] == '/' ? snprintf(want, sizeof want, "%s%s%s", link, *rest ? "/" : "", rest)
								 : snprintf(want, sizeof want, "%s/%s%s%s", buf, link, *rest ? "/" : "", rest);
					if (len >= (int)sizeof want)
						return fail("bind target", path, ENAMETOOLONG);
					restarted = 1;
					continue;
				}
				if (!last || dir) {
					if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST)
						return fail("bind target: mkdir", path, errno);
				} else {
					int f = openat(parent, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
					if (f < 0)
						return fail("bind target: create", path, errno);
					close(f);
				}
				*slash = '/';
				restarted = 1; /* look the whole path up again */
				continue;
			}
			if (last)
				return fail("bind target", path, ENOENT);
			*p = c;
		}
	}
	return fail("bind target", path, ELOOP);
}

static int bind_in_root(int root, const char *source, const char *target, int readonly)
{
	struct stat st;
	if (stat(source, &st) < 0)
		return fail("bind source", source, errno);
	cleanup_close int at = make_in_root(root, target, S_ISDIR(st.st_mode));
	if (at < 0)
		return -1;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", at);
	if (mount(source, proc, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail("bind", target, errno);
	if (!readonly)
		return 0;
	/* The fd names what the bind covers: open the target again to reach the new mount. */
	cleanup_close int mounted = open_in_root(root, target, O_PATH);
	if (mounted < 0)
		return fail("bind: reopen", target, errno);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", mounted);
	if (mount(NULL, proc, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return fail("bind: make read-only", target, errno);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mini-docker-rootview ROOT [-m TYPE SOURCE TARGET OPTIONS]... [-b SOURCE TARGET ro|rw]...\n");
		return 2;
	}
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		return 1;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fail("unshare", "a private mount namespace", errno);
		return 1;
	}
	const char *root_path = argv[1];
	int i = 2;
	for (; i + 4 < argc && strcmp(argv[i], "-m") == 0; i += 5) {
		char data[4096];
		unsigned long flags = parse_options(argv[i + 4], data, sizeof data);
		if (mount(argv[i + 2], argv[i + 3], argv[i + 1], flags, data[0] != '\0' ? data : NULL) < 0) {
			fail("mount", argv[i + 3], errno);
			return 1;
		}
	}
	cleanup_close int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		fail("open", root_path, errno);
		return 1;
	}
	for (; i + 3 < argc && strcmp(argv[i], "-b") == 0; i += 4) {
		if (bind_in_root(root, argv[i + 1], argv[i + 2], strcmp(argv[i + 3], "ro") == 0) < 0)
			return 1;
	}
	if (i != argc) {
		fprintf(stderr, "mini-docker-rootview: unexpected argument %s\n", argv[i]);
		return 2;
	}
	if (printf("ready\n") < 0 || fflush(stdout) != 0)
		return 1;
	char byte;
	while (read(STDIN_FILENO, &byte, 1) > 0) {
	}
	return 0;
}
