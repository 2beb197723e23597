/* Timestamps of a start's steps, for measuring where its time goes (docs/benchmarks.md): with
 * MINI_DOCKER_SHIM_TIMING=<file> in the daemon's environment, each step appends one line
 * "<pid> <step> <CLOCK_MONOTONIC ns>" to that file. Off by default: one compare per step. */
#pragma once

void shim_timing_open(void);
void shim_mark(const char *step);
