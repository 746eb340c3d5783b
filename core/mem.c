/* mem.c - allocation wrappers with a process-wide counter and a fault hook. */
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mem_count;
static uint64_t mem_fail_at; /* the allocation number that fails; 0: none */

/*
 * Count one allocation. @returns false if it is the one armed to fail,
 * which disarms the hook: only that allocation fails. Unarmed, the cost is
 * one relaxed load next to the counter's increment.
 */
static bool count(void)
{
        uint64_t n  = __atomic_add_fetch(&mem_count, 1, __ATOMIC_RELAXED);
        uint64_t at = __atomic_load_n(&mem_fail_at, __ATOMIC_RELAXED);

        if (__builtin_expect(at == 0 || n < at, 1))
                return true;
        return !__atomic_compare_exchange_n(&mem_fail_at, &at, 0, false,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void *ab_malloc(size_t size)
{
        if (!count())
                return NULL;
        return malloc(size ? size : 1);
}

void *ab_calloc(size_t n, size_t size)
{
        if (!count())
                return NULL;
        return calloc(n ? n : 1, size ? size : 1);
}

void *ab_realloc(void *ptr, size_t size)
{
        if (!count())
                return NULL;
        return realloc(ptr, size ? size : 1);
}

char *ab_strndup(const char *s, size_t n)
{
        char *p = ab_malloc(n + 1);

        if (!p)
                return NULL;
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *ab_strdup(const char *s)
{
        return ab_strndup(s, strlen(s));
}

void ab_free(void *ptr)
{
        free(ptr);
}

uint64_t ab_mem_allocations(void)
{
        return __atomic_load_n(&mem_count, __ATOMIC_RELAXED);
}

void ab_mem_fail_after(uint64_t n)
{
        uint64_t at = n ? ab_mem_allocations() + n : 0;

        __atomic_store_n(&mem_fail_at, at, __ATOMIC_RELAXED);
}

bool ab_mem_fail_pending(void)
{
        return __atomic_load_n(&mem_fail_at, __ATOMIC_RELAXED) != 0;
}
