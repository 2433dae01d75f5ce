#include "xxhash_shim.h"
#include <xxhash.h>

void viridian_xxh3_128(const void *data, size_t length, uint64_t *high, uint64_t *low) {
    XXH128_hash_t hash = XXH3_128bits(data, length);
    *high = hash.high64;
    *low = hash.low64;
}
