/* keymap.c - fixed-length key hash map; see keymap.h. */
#include "keymap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t keymap_hash(const uint64_t *key, uint32_t words)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (uint32_t i = 0; i < words; i++) {
        h ^= key[i] + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
        h *= 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    return h;
}

int tc_keymap_init(tc_keymap *m, uint32_t words)
{
    memset(m, 0, sizeof *m);
    m->words = words ? words : 1;
    m->capacity = 64;
    m->keys = malloc((size_t)m->capacity * m->words * sizeof(uint64_t));
    m->values = calloc(m->capacity, sizeof(uint64_t));
    m->slots = calloc(128, sizeof(uint32_t));
    m->slot_mask = 127;
    if (!m->keys || !m->values || !m->slots) {
        tc_keymap_free(m);
        return -1;
    }
    return 0;
}

void tc_keymap_free(tc_keymap *m)
{
    free(m->keys);
    free(m->values);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

uint32_t tc_keymap_find(const tc_keymap *m, const uint64_t *key)
{
    size_t bytes = (size_t)m->words * sizeof(uint64_t);
    for (uint64_t i = keymap_hash(key, m->words) & m->slot_mask;; i = (i + 1) & m->slot_mask) {
        uint32_t s = m->slots[i];
        if (s == 0)
            return UINT32_MAX;
        if (memcmp(tc_keymap_key(m, s - 1), key, bytes) == 0)
            return s - 1;
    }
}

static int keymap_grow(tc_keymap *m)
{
    uint32_t capacity = m->capacity * 2;
    uint64_t *keys = realloc(m->keys, (size_t)capacity * m->words * sizeof(uint64_t));
    if (!keys)
        return -1;
    m->keys = keys;
    uint64_t *values = realloc(m->values, (size_t)capacity * sizeof(uint64_t));
    if (!values)
        return -1;
    memset(values + m->capacity, 0, (size_t)(capacity - m->capacity) * sizeof(uint64_t));
    m->values = values;
    m->capacity = capacity;

    uint32_t slot_count = capacity * 2;
    uint32_t *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return -1;
    free(m->slots);
    m->slots = slots;
    m->slot_mask = slot_count - 1;
    for (uint32_t id = 0; id < m->count; id++) {
        uint64_t i = keymap_hash(tc_keymap_key(m, id), m->words) & m->slot_mask;
        while (slots[i])
            i = (i + 1) & m->slot_mask;
        slots[i] = id + 1;
    }
    return 0;
}

uint32_t tc_keymap_intern(tc_keymap *m, const uint64_t *key)
{
    uint32_t id = tc_keymap_find(m, key);
    if (id != UINT32_MAX)
        return id;
    if (m->count == m->capacity && keymap_grow(m) != 0)
        return UINT32_MAX;

    id = m->count++;
    memcpy(m->keys + (size_t)id * m->words, key, (size_t)m->words * sizeof(uint64_t));
    m->values[id] = 0;
    uint64_t i = keymap_hash(key, m->words) & m->slot_mask;
    while (m->slots[i])
        i = (i + 1) & m->slot_mask;
    m->slots[i] = id + 1;
    return id;
}
