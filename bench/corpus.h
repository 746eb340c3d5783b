/* corpus.h - deterministic benchmark payloads for every built-in integration
 * and the seed-001 shape. */
#ifndef AB_BENCH_CORPUS_H
#define AB_BENCH_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * The payload shapes of the benchmark corpus. Each one is a real source
 * format (formats.md §3, the seeds) with the values that identify an
 * alert drawn from a pool of keys, so a corpus has a chosen number of
 * distinct fingerprints.
 */
#define AB_BENCH_KIND_MAP(XX)                                                  \
        XX(ALERTMANAGER, "alertmanager", "alertmanager")                       \
        XX(ARMS, "arms", "alertmanager")                                       \
        XX(CLOUDMONITOR, "cloudmonitor", "cloudmonitor")                       \
        XX(CLOUDMONITOR_EVENT, "cloudmonitor-event", "cloudmonitor-event")     \
        XX(GENERIC, "generic", "generic")                                      \
        XX(NETWORK, "network-monitor", "network-monitor")

enum ab_bench_kind {
#define AB__BENCH_KIND(id, name, integ) AB_BENCH_##id,
        AB_BENCH_KIND_MAP(AB__BENCH_KIND)
#undef AB__BENCH_KIND
            AB_BENCH__COUNT
};

/** "alertmanager", "arms", ... (the corpus shape). */
const char *ab_bench_kind_name(enum ab_bench_kind k);
/** The integration that maps the shape, by `name:`. */
const char *ab_bench_kind_integration(enum ab_bench_kind k);
/** @returns the kind called \p name, or -1. */
int ab_bench_kind_lookup(const char *name);

struct ab_bench_corpus_conf {
        uint64_t seed;
        size_t count;           /* records */
        uint32_t keys;          /* distinct alert keys per shape (>= 1) */
        double recovery_share;  /* 0..1: share of recoveries */
        double malformed_share; /* 0..1: share of records to reject */
        unsigned kinds;         /* bit k set: shape k is in the mix; 0: all */
};

/* One record; its bytes are data[off, off + len). */
struct ab_bench_record {
        enum ab_bench_kind kind;
        uint32_t off;
        uint32_t len;
        uint32_t key;
        bool recovery;
        bool malformed;
};

/* Owns its records and their bytes. */
struct ab_bench_corpus {
        struct ab_buf data;
        struct ab_bench_record *recs;
        size_t n;
};

/**
 * Generate \p conf->count records into \p c (initialized here; free with
 * ab_bench_corpus_fini()). The same conf always gives the same bytes:
 * record i depends only on the seed and i. Shapes take turns in the mix
 * (record i is shape i mod the number of shapes), keys are uniform over
 * the pool, and a malformed record is a cut-off JSON text, a JSON payload
 * without its alert name, or a form body with a bad %-escape.
 * @returns AB_OK, AB_ERR_USAGE for an invalid conf, or AB_ERR_NOMEM.
 */
ab_err_t ab_bench_corpus_generate(const struct ab_bench_corpus_conf *conf,
                                  struct ab_bench_corpus *c);

/** NULL-safe. */
void ab_bench_corpus_fini(struct ab_bench_corpus *c);

/** The defaults every benchmark program starts from: seed 1, 1000 keys
 * per shape, 10 % recoveries, 1 % malformed, every shape; count 0. */
void ab_bench_corpus_defaults(struct ab_bench_corpus_conf *conf);

/**
 * Apply one of the corpus options every benchmark program takes:
 * 'k' --keys, 'R' --recovery-share, 'M' --malformed-share, 's' --seed.
 * @returns 0, or non-zero when \p arg is not a valid value.
 */
int ab_bench_corpus_option(struct ab_bench_corpus_conf *conf, int opt,
                           const char *arg);

/** The bytes of record \p i. */
static inline const char *ab_bench_record_data(const struct ab_bench_corpus *c,
                                               size_t i)
{
        return c->data.data + c->recs[i].off;
}

/**
 * The reference payload of the transform target: a Prometheus
 * Alertmanager webhook (version 4) with two firing alerts, about 1.2 KB;
 * with \p resolved, the same two alerts resolved.
 * @returns a static NUL-terminated string.
 */
const char *ab_bench_reference_payload(bool resolved);

#endif
