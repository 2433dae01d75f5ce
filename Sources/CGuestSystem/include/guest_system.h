#ifndef VIRIDIAN_GUEST_SYSTEM_H
#define VIRIDIAN_GUEST_SYSTEM_H

/* The few glibc calls Swift's Glibc module does not import (they need _GNU_SOURCE / _XOPEN_SOURCE). */

/* Opens a pseudo-terminal master, grants and unlocks it; writes the slave's path. Returns the fd or -1. */
int viridian_open_pty_master(char *slave_path, unsigned long length);

/* pipe2(fds, O_CLOEXEC). */
int viridian_pipe_cloexec(int fds[2]);

/* The NIS domain name (uname's domainname field), or "" when unset. */
int viridian_domain_name(char *buffer, unsigned long length);

/* splice(from, NULL, to, NULL, length, SPLICE_F_MOVE): bytes between a pipe and a file or device, no user copy. */
long viridian_splice(int from, int to, unsigned long length);

/* fcntl(fd, F_SETPIPE_SZ, size): the pipe's capacity. */
int viridian_set_pipe_size(int fd, int size);

/* Makes sure a file can grow to length bytes before any is written: fallocate(fd, 0, 0, length), or on tmpfs
   (where reserving means allocating and zeroing every page at once) a check of the free room only.
   Returns 0, or the errno (ENOSPC when there is no room). */
int viridian_allocate(int fd, long long length);

#endif
