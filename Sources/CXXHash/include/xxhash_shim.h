#ifndef VIRIDIAN_XXHASH_SHIM_H
#define VIRIDIAN_XXHASH_SHIM_H

#include <stddef.h>
#include <stdint.h>

/// XXH3's 128-bit hash of `length` bytes at `data` (Debian's libxxhash), as two 64-bit halves:
/// the checksum backup repositories keep per 4 MiB.
void viridian_xxh3_128(const void *data, size_t length, uint64_t *high, uint64_t *low);

#endif
