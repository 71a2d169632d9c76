/*
 * names.h - a name table: strings interned to dense ids 0..count-1 in the
 * order they were first added, with hashed look-up.
 *
 * Tables of the replicated hub layer (segments, principals, packages) and of
 * named attributes (tenants, apps, ...) are built in the same order on every
 * rank, so an id means the same name everywhere.
 */
#ifndef TC_NAMES_H
#define TC_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define TC_NAME_NONE UINT32_MAX

typedef struct tc_names {
    uint32_t count;
    uint32_t capacity;
    char **names;       /* owned copies, names[id] */
    uint32_t *slots;    /* open addressing: id + 1, 0 = empty */
    uint32_t slot_mask; /* slot count - 1, a power of two */
    size_t bytes;       /* bytes held, for memory reports */
} tc_names;

void tc_names_init(tc_names *t);
void tc_names_free(tc_names *t);

/* Find NAME; returns its id or TC_NAME_NONE. */
uint32_t tc_names_find(const tc_names *t, const char *name);

/* Find NAME or add a copy of it. Returns the id, or TC_NAME_NONE when
 * memory ran out. *ADDED (may be NULL) is set to 1 when the name is new. */
uint32_t tc_names_intern(tc_names *t, const char *name, int *added);

/* Name of ID, or "?" when ID is out of range. Borrowed. */
const char *tc_names_get(const tc_names *t, uint32_t id);

#endif
