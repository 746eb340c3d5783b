/* fault.h - the allocation-fault loop of the check_*_faults suites, on the
 * fault hook of core/mem.h. */
#ifndef AB_TEST_FAULT_H
#define AB_TEST_FAULT_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"

/*
 * HOW IT WORKS (as jansson's and curl's suites do it)
 * ab_fault_loop() runs a scenario again and again, failing its n-th
 * allocation, n = 1, 2, ..., and stops after the first run that never
 * reached the fault: by then every allocation the scenario makes has
 * failed once. The scenario does its setup, arms the fault with
 * ab_mem_fail_after(n), and makes every call under test through
 * AB_FAULT_STEP, which checks the call's result: a call that reached
 * the fault returns AB_ERR_NOMEM (or AB_OK if it could do without that
 * allocation), any other call AB_OK. The fault fires once, so the calls
 * after it show whether the object is still usable. ab_fault_end()
 * disarms the hook before the scenario checks its own invariants.
 * Leaks are found by LeakSanitizer in the sanitizer build: the suites
 * run without fork, so it sees every run.
 */

struct ab_fault_run {
        uint64_t n;    /* the allocation that fails */
        bool failed;   /* a call returned AB_ERR_NOMEM */
        bool absorbed; /* a call reached the fault and still succeeded */
        bool reached;  /* set by ab_fault_end() */
};

static inline void ab_fault_note(struct ab_fault_run *fr, bool armed,
                                 ab_err_t rc, const char *what)
{
        bool hit = armed && !ab_mem_fail_pending();

        if (rc) {
                ck_assert_msg(rc == AB_ERR_NOMEM && hit,
                              "%s returned %s (fault at allocation %llu %s)",
                              what, ab_err_code(rc), (unsigned long long)fr->n,
                              hit ? "hit" : "not hit");
                fr->failed = true;
        } else if (hit) {
                fr->absorbed = true;
        }
}

/* Make the call \p expr (an ab_err_t) and check its result. */
#define AB_FAULT_STEP(fr, expr)                                                \
        do {                                                                   \
                bool ab__armed = ab_mem_fail_pending();                        \
                ab_fault_note(&(fr), ab__armed, (expr), #expr);                \
        } while (0)

/* End the calls under test: note whether the fault was reached, disarm. */
static inline void ab_fault_end(struct ab_fault_run *fr)
{
        fr->reached = !ab_mem_fail_pending();
        ab_mem_fail_after(0);
}

typedef void (*ab_fault_scenario)(void *arg, uint64_t n,
                                  struct ab_fault_run *fr);

/* Run \p scenario for n = 1, 2, ... until a run does not reach the
 * fault. @returns the number of runs. */
static inline uint64_t ab_fault_loop(ab_fault_scenario scenario, void *arg)
{
        for (uint64_t n = 1;; n++) {
                struct ab_fault_run fr = {n, false, false, false};

                scenario(arg, n, &fr);
                ck_assert_msg(!ab_mem_fail_pending(),
                              "the scenario did not call ab_fault_end()");
                if (!fr.reached)
                        return n;
        }
}

#endif
