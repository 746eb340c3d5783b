/* mem.c - allocation wrappers with a process-wide counter. */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mem_count;

static void count(void)
{
        __atomic_fetch_add(&mem_count, 1, __ATOMIC_RELAXED);
}

void *ab_malloc(size_t size)
{
        count();
        return malloc(size ? size : 1);
}

void *ab_calloc(size_t n, size_t size)
{
        count();
        return calloc(n ? n : 1, size ? size : 1);
}

void *ab_realloc(void *ptr, size_t size)
{
        count();
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
