/* `mini-docker-shim exec <spec>`: a process in a running container, frames over fd 0 / fd 1. */
#pragma once

int exec_mode_main(const char *spec_path);
