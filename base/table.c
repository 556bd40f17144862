/* table.c: bounded hash table with CLOCK eviction (see table.h). */
#include "base/table.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	uint64_t hash;
	uint16_t klen;
	uint8_t used;
	uint8_t ref; /* CLOCK bit: set on use, cleared as the hand passes */
} tbl_hdr;

struct tbl {
	uint8_t *slots;
	size_t cap; /* power of two, 0 before the first put */
	size_t n;
	size_t max; /* 0 = unbounded */
	size_t key_cap, val_size, stride, val_off;
	size_t hand; /* CLOCK hand */
	uint64_t evictions;
};

#define TBL_ALIGN(x) (((x) + 7u) & ~(size_t)7u)

static tbl_hdr *
tbl_slot(const tbl *t, size_t i)
{
	return (tbl_hdr *)(t->slots + i * t->stride);
}

static uint8_t *
tbl_key(tbl_hdr *h)
{
	return (uint8_t *)(h + 1);
}

static uint64_t
tbl_hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix for the low bits */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

tbl *
tbl_new(size_t key_cap, size_t val_size, size_t max)
{
	if (key_cap > 65535)
		return NULL;
	tbl *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->key_cap = key_cap;
	t->val_size = val_size;
	t->max = max;
	t->val_off = TBL_ALIGN(sizeof(tbl_hdr) + key_cap);
	t->stride = t->val_off + TBL_ALIGN(val_size);
	return t;
}

void
tbl_free(tbl *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

/* Index of key's slot, or of the empty slot where it would go. cap > 0. */
static size_t
tbl_find(const tbl *t, const void *key, size_t klen, uint64_t h)
{
	size_t mask = t->cap - 1, i = h & mask;
	for (;;) {
		tbl_hdr *s = tbl_slot(t, i);
		if (!s->used || (s->hash == h && s->klen == klen && memcmp(tbl_key(s), key, klen) == 0))
			return i;
		i = (i + 1) & mask;
	}
}

static int
tbl_grow(tbl *t, size_t ncap)
{
	uint8_t *ns = calloc(ncap, t->stride);
	if (ns == NULL)
		return -1;
	uint8_t *old = t->slots;
	size_t ocap = t->cap;
	t->slots = ns;
	t->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		tbl_hdr *s = (tbl_hdr *)(old + i * t->stride);
		if (!s->used)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (tbl_slot(t, j)->used)
			j = (j + 1) & (ncap - 1);
		memcpy(tbl_slot(t, j), s, t->stride);
	}
	free(old);
	t->hand = 0;
	return 0;
}

/* Empties slot i and shifts the following run back so every key stays reachable from its home. */
static void
tbl_remove_at(tbl *t, size_t i)
{
	size_t mask = t->cap - 1, j = i;
	for (;;) {
		j = (j + 1) & mask;
		tbl_hdr *s = tbl_slot(t, j);
		if (!s->used)
			break;
		size_t k = s->hash & mask;
		/* s may move to i when its home k is not cyclically within (i, j] */
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			memcpy(tbl_slot(t, i), s, t->stride);
			i = j;
		}
	}
	memset(tbl_slot(t, i), 0, t->stride);
	t->n--;
}

static void
tbl_evict_one(tbl *t)
{
	for (;;) {
		tbl_hdr *s = tbl_slot(t, t->hand);
		if (s->used && !s->ref) {
			tbl_remove_at(t, t->hand);
			t->evictions++;
			return; /* the hand stays: the slot now holds the next candidate (or is empty) */
		}
		s->ref = 0;
		t->hand = (t->hand + 1) & (t->cap - 1);
	}
}

void *
tbl_get(tbl *t, const void *key, size_t klen)
{
	if (t->cap == 0 || klen > t->key_cap)
		return NULL;
	tbl_hdr *s = tbl_slot(t, tbl_find(t, key, klen, tbl_hash(key, klen)));
	if (!s->used)
		return NULL;
	s->ref = 1;
	return (uint8_t *)s + t->val_off;
}

void *
tbl_put(tbl *t, const void *key, size_t klen, int *created)
{
	*created = 0;
	if (klen > t->key_cap)
		return NULL;
	uint64_t h = tbl_hash(key, klen);
	if (t->cap) {
		tbl_hdr *s = tbl_slot(t, tbl_find(t, key, klen, h));
		if (s->used) {
			s->ref = 1;
			return (uint8_t *)s + t->val_off;
		}
	}
	if (t->max && t->n >= t->max)
		tbl_evict_one(t);
	if ((t->n + 1) * 2 > t->cap && tbl_grow(t, t->cap ? t->cap * 2 : 16) != 0)
		return NULL;
	tbl_hdr *s = tbl_slot(t, tbl_find(t, key, klen, h));
	memset(s, 0, t->stride);
	s->hash = h;
	s->klen = (uint16_t)klen;
	s->used = 1;
	s->ref = 1;
	memcpy(tbl_key(s), key, klen);
	t->n++;
	*created = 1;
	return (uint8_t *)s + t->val_off;
}

int
tbl_del(tbl *t, const void *key, size_t klen)
{
	if (t->cap == 0 || klen > t->key_cap)
		return 0;
	size_t i = tbl_find(t, key, klen, tbl_hash(key, klen));
	if (!tbl_slot(t, i)->used)
		return 0;
	tbl_remove_at(t, i);
	return 1;
}

size_t
tbl_count(const tbl *t)
{
	return t->n;
}

uint64_t
tbl_evictions(const tbl *t)
{
	return t->evictions;
}

void *
tbl_next(const tbl *t, size_t *it, const void **key, size_t *klen)
{
	while (*it < t->cap) {
		tbl_hdr *s = tbl_slot(t, (*it)++);
		if (s->used) {
			*key = tbl_key(s);
			*klen = s->klen;
			return (uint8_t *)s + t->val_off;
		}
	}
	return NULL;
}
