/* mem.h - allocation wrappers with a process-wide counter for tests. */
#ifndef AB_MEM_H
#define AB_MEM_H

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

#endif
