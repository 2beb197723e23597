/* Reading the helpers' requests from stdin: shared by mini-docker-fsops and mini-docker-xattrs. */
#ifndef MINI_DOCKER_READ_EXACT_H
#define MINI_DOCKER_READ_EXACT_H

#include <stdio.h>

/* Reads exactly n bytes; 1 when read, 0 at a clean end of input before any byte, -1 otherwise. */
static int read_exact(void *buffer, size_t n)
{
	size_t done = 0;
	while (done < n) {
		size_t got = fread((char *)buffer + done, 1, n - done, stdin);
		if (got == 0)
			return done == 0 && feof(stdin) ? 0 : -1;
		done += got;
	}
	return 1;
}

#endif
