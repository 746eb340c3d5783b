/* mem.h - allocation wrappers with a process-wide counter and a fault hook
 * for tests. */
#ifndef AB_MEM_H
#define AB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * All project code allocates through these, so tests and benchmarks can
 * assert "no heap allocation per message after warm-up" by reading
 * ab_mem_allocations() before and after a loop. The counter is a relaxed
 * atomic: cheap, and exact for single-threaded measurements.
 */
void *ab_malloc(size_t size);
void *ab_calloc(size_t n, size_t size);
void *ab_realloc(void *ptr, size_t size);
char *ab_strdup(const char *s);
char *ab_strndup(const char *s, size_t n);
void ab_free(void *ptr);

/** @returns how many allocations (malloc, calloc, realloc) were made. */
uint64_t ab_mem_allocations(void);

/*
 * Test-only fault hook, as jansson's and curl's test suites have: the
 * \p n-th allocation from now (1: the next one) returns NULL, once; the
 * hook then disarms itself. 0 disarms it. A failed allocation still
 * counts in ab_mem_allocations(). Meant for single-threaded tests: with
 * other threads allocating, which call fails is not determined.
 *
 * The fault loops in tests/unit/check_*_faults.c run a scenario with
 * n = 1, 2, ... until a run no longer reaches the fault.
 */
void ab_mem_fail_after(uint64_t n);

/** @returns true while an armed fault has not been reached. */
bool ab_mem_fail_pending(void);

#endif
