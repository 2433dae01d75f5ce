#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "guest_system.h"

int viridian_open_pty_master(char *slave_path, unsigned long length) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, slave_path, length) != 0) {
        close(master);
        return -1;
    }
    return master;
}

int viridian_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int viridian_domain_name(char *buffer, unsigned long length) {
    struct utsname names;
    if (uname(&names) != 0 || length == 0) return -1;
    strncpy(buffer, names.domainname, length - 1);
    buffer[length - 1] = 0;
    return 0;
}

long viridian_splice(int from, int to, unsigned long length) {
    return (long)splice(from, NULL, to, NULL, length, SPLICE_F_MOVE);
}

int viridian_set_pipe_size(int fd, int size) {
    return fcntl(fd, F_SETPIPE_SZ, size);
}

/* tmpfs's f_type (linux/magic.h, not part of musl's headers). */
#define VIRIDIAN_TMPFS_MAGIC 0x01021994

int viridian_allocate(int fd, long long length) {
    struct statfs system;
    if (fstatfs(fd, &system) != 0) return errno;
    if (system.f_type == VIRIDIAN_TMPFS_MAGIC) {
        /* tmpfs reserves by allocating and zeroing every page at once: as costly as the writes,
           and the transfer would wait for it. Checking the room refuses just as early. A tmpfs
           mounted without a size limit reports no blocks at all. */
        if (system.f_blocks == 0) return 0;
        return (unsigned long long)system.f_bavail * (unsigned long long)system.f_bsize >= (unsigned long long)length
            ? 0 : ENOSPC;
    }
    return fallocate(fd, 0, 0, (off_t)length) == 0 ? 0 : errno;
}
