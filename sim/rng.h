/*
 * rng.h - counter-based random numbers keyed by (seed, stream, entity, index).
 *
 * Every random draw in trustchain is a pure function of its key, computed
 * with Random123's Philox4x32-10 (Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011). No draw depends on which rank makes it or
 * in what order, which is what makes topologies and results identical on
 * any rank count. Streams separate the uses (one per kind of decision) so
 * that adding a draw of one kind never shifts the draws of another.
 */
#ifndef TC_RNG_H
#define TC_RNG_H

#include <stdint.h>

#include <Random123/philox.h>

/* Return 64 random bits for KEY = (seed, stream, entity, index). */
static inline uint64_t tc_rng_u64(uint64_t seed, uint32_t stream, uint64_t entity,
                                  uint32_t index)
{
    philox4x32_ctr_t ctr = { { (uint32_t)entity, (uint32_t)(entity >> 32), stream, index } };
    philox4x32_key_t key = { { (uint32_t)seed, (uint32_t)(seed >> 32) } };
    philox4x32_ctr_t r = philox4x32(ctr, key);
    return ((uint64_t)r.v[1] << 32) | r.v[0];
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double tc_rng_unit(uint64_t seed, uint32_t stream, uint64_t entity,
                                 uint32_t index)
{
    return (double)(tc_rng_u64(seed, stream, entity, index) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0, by multiply-shift (bias below 2^-32
 * for n < 2^32). */
static inline uint64_t tc_rng_below(uint64_t seed, uint32_t stream, uint64_t entity,
                                    uint32_t index, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)tc_rng_u64(seed, stream, entity, index) * n;
    return (uint64_t)(m >> 64);
}

/* Fill OUT with all 128 random bits of KEY = (seed, stream, entity, index)
 * as four 32-bit words. OUT[0] and OUT[1] are the low and high halves of
 * tc_rng_u64 for the same key. */
static inline void tc_rng_u32x4(uint64_t seed, uint32_t stream, uint64_t entity,
                                uint32_t index, uint32_t out[4])
{
    philox4x32_ctr_t ctr = { { (uint32_t)entity, (uint32_t)(entity >> 32), stream, index } };
    philox4x32_key_t key = { { (uint32_t)seed, (uint32_t)(seed >> 32) } };
    philox4x32_ctr_t r = philox4x32(ctr, key);
    out[0] = r.v[0];
    out[1] = r.v[1];
    out[2] = r.v[2];
    out[3] = r.v[3];
}

#endif
