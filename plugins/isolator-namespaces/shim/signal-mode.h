/* The shim's signal modes: a container's processes signalled from outside their shim (the daemon
 * has no connection to it, or the shim is the one to end). Every target is held by a pidfd taken
 * before it is checked to be ours and is signalled through that pidfd: a pid is not reused while
 * its process runs, so what was read of it after the pidfd was taken is that process's whenever the
 * pidfd still reaches it afterwards, and a pid reused since the process died is never signalled. */
#pragma once

/* `signal <pid> <parent pid> <signal>`: pid only while it is parent's child (a container's init, the
 * child of its shim). Exit 0: sent; 3: no such process, or not parent's child; 1: another failure
 * (on stderr); 2: bad arguments. */
int signal_mode(const char *pid_arg, const char *parent_arg, const char *signal_arg);

/* `signal-in <pid> <init pid> <init's parent> <signal> [<start time>]`: pid only while it is in the
 * PID namespace of init, init being the child of its shim (an exec's process whose exec shim is
 * gone), and, with a start time (/proc/<pid>/stat field 22 as its exec shim read it at its start),
 * only while pid is still the process that started then: another process of the container that
 * reused the pid is refused. Exit codes as signal_mode's. start_arg NULL: no start time check. */
int signal_in_mode(const char *pid_arg, const char *init_arg, const char *parent_arg, const char *signal_arg, const char *start_arg);

/* `end <run|exec> <path> <children 0|1>`: SIGKILL to every `mini-docker-shim <run|exec> <path>` (a
 * container's shim by its bundle, an exec's by its spec), its children first with `1` (an exec's
 * process), then waits (up to 5 s each) for the shims to end. Prints "<shims> <children>" killed;
 * exit 0, or 1 when /proc cannot be read. */
int end_mode(const char *mode_arg, const char *path_arg, const char *children_arg);
