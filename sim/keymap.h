/*
 * keymap.h - a hash map from fixed-length keys of uint64_t words to dense
 * uint32_t ids, in insertion order. Used to find the distinct classes,
 * signatures and allowed flows of a policy.
 */
#ifndef TC_KEYMAP_H
#define TC_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tc_keymap {
    uint32_t words;      /* words per key */
    uint32_t count;      /* distinct keys */
    uint32_t capacity;   /* keys the storage holds */
    uint64_t *keys;      /* count * words */
    uint64_t *values;    /* one caller-defined value per key (OR-merged flags, counts) */
    uint32_t *slots;     /* id + 1, 0 = empty */
    uint32_t slot_mask;
} tc_keymap;

/* Prepare an empty map of WORDS-word keys. Returns 0 or -1 (out of memory). */
int tc_keymap_init(tc_keymap *m, uint32_t words);
void tc_keymap_free(tc_keymap *m);

/* Id of KEY, adding it with value 0 when absent. Returns UINT32_MAX when
 * memory ran out. */
uint32_t tc_keymap_intern(tc_keymap *m, const uint64_t *key);

/* Id of KEY, or UINT32_MAX when absent. */
uint32_t tc_keymap_find(const tc_keymap *m, const uint64_t *key);

static inline const uint64_t *tc_keymap_key(const tc_keymap *m, uint32_t id)
{
    return m->keys + (size_t)id * m->words;
}

#endif
