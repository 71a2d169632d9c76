/* names.c - interned name tables; see names.h. */
#include "names.h"

#include <stdlib.h>
#include <string.h>

static uint64_t names_hash(const char *s)
{
    /* FNV-1a: short keys, no adversary, good enough spread. */
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void tc_names_init(tc_names *t)
{
    memset(t, 0, sizeof *t);
}

void tc_names_free(tc_names *t)
{
    for (uint32_t i = 0; i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

uint32_t tc_names_find(const tc_names *t, const char *name)
{
    if (!t->slots)
        return TC_NAME_NONE;
    for (uint64_t i = names_hash(name) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        uint32_t s = t->slots[i];
        if (s == 0)
            return TC_NAME_NONE;
        if (strcmp(t->names[s - 1], name) == 0)
            return s - 1;
    }
}

static int names_rehash(tc_names *t, uint32_t slot_count)
{
    uint32_t *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return -1;
    free(t->slots);
    t->slots = slots;
    t->slot_mask = slot_count - 1;
    for (uint32_t id = 0; id < t->count; id++) {
        uint64_t i = names_hash(t->names[id]) & t->slot_mask;
        while (slots[i])
            i = (i + 1) & t->slot_mask;
        slots[i] = id + 1;
    }
    return 0;
}

uint32_t tc_names_intern(tc_names *t, const char *name, int *added)
{
    if (added)
        *added = 0;
    uint32_t id = tc_names_find(t, name);
    if (id != TC_NAME_NONE)
        return id;

    /* Keep the load factor at most one half. */
    if ((uint64_t)(t->count + 1) * 2 > (uint64_t)t->slot_mask + 1 || !t->slots) {
        uint32_t slot_count = t->slots ? (t->slot_mask + 1) * 2 : 64;
        if (names_rehash(t, slot_count) != 0)
            return TC_NAME_NONE;
    }
    if (t->count == t->capacity) {
        uint32_t capacity = t->capacity ? t->capacity * 2 : 32;
        char **names = realloc(t->names, capacity * sizeof *names);
        if (!names)
            return TC_NAME_NONE;
        t->names = names;
        t->capacity = capacity;
    }
    char *copy = strdup(name);
    if (!copy)
        return TC_NAME_NONE;

    id = t->count++;
    t->names[id] = copy;
    t->bytes += strlen(name) + 1 + sizeof(char *) + 2 * sizeof(uint32_t);
    uint64_t i = names_hash(name) & t->slot_mask;
    while (t->slots[i])
        i = (i + 1) & t->slot_mask;
    t->slots[i] = id + 1;
    if (added)
        *added = 1;
    return id;
}

const char *tc_names_get(const tc_names *t, uint32_t id)
{
    return id < t->count ? t->names[id] : "?";
}
