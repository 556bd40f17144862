/* base/table.h: a hash table from short byte-string keys to fixed-size values, bounded in entries.
 *
 * Why: state keyed by what a peer sends (bus streams keyed by origin and topic, per-source
 * counters) must not grow without bound. A table made with a maximum evicts an old entry when a new
 * key arrives and it is full (CLOCK: an approximation of least-recently-used that costs one bit per
 * entry and no list), and counts every eviction; the caller exports the count as a metric. A table
 * made with max 0 grows without bound (for keys the process chooses itself).
 *
 * Open addressing with linear probing and backward-shift deletion: no tombstones, lookups stay
 * short at the load factor kept here (at most 1/2).
 *
 * Memory: the table owns its entries; tbl_get/tbl_put return pointers into it that stay valid
 * until the next tbl_put or tbl_del (which may move or evict entries) or tbl_free. Values are
 * zeroed when created. Threads: one thread at a time. */
#ifndef OB_BASE_TABLE_H
#define OB_BASE_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tbl tbl;

/* key_cap: longest key in bytes (<= 65535); val_size: bytes of each value; max: entries kept at
 * most (0 = unbounded). NULL when out of memory. */
tbl *tbl_new(size_t key_cap, size_t val_size, size_t max);
void tbl_free(tbl *t);

/* The value of key, or NULL. Marks the entry as recently used. */
void *tbl_get(tbl *t, const void *key, size_t klen);

/* The value of key, created (zeroed) when absent; *created says which. When the table is at its
 * maximum, an old entry is evicted first (counted by tbl_evictions). NULL when klen > key_cap or out
 * of memory. */
void *tbl_put(tbl *t, const void *key, size_t klen, int *created);

/* Removes key; 1 if it was there. */
int tbl_del(tbl *t, const void *key, size_t klen);

size_t tbl_count(const tbl *t);
uint64_t tbl_evictions(const tbl *t);

/* Iteration: start with *it = 0; returns the next value (key and klen set) or NULL at the end. The
 * table must not change during an iteration. */
void *tbl_next(const tbl *t, size_t *it, const void **key, size_t *klen);

#endif
