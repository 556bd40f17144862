/* rt_main: the lifecycle every actor shares. A main() is
 *
 *     static const rt_opt opts[] = { ... };
 *     if (rt_init("median", argc, argv, opts, N(opts)) != 0) return 1;
 *     while (!rt_stopping()) { ...; rt_sleep_ms(100); }
 *     rt_shutdown();
 *
 * rt_init: sets the actor name and instance (INSTANCE, default <actor>-<hostname>) and the log
 * level (LOG_LEVEL); handles --help and --env-table (print the variable table, exit 0), --version
 * (rt_version.h, exit 0) and any other argument (stderr, exit 2: actors take no arguments); loads the
 * actor's options plus the common ones (LOG_LEVEL, INSTANCE, METRICS_PORT, HEALTH_PORT, HTTP_PORT,
 * HTTP_ADDR) and runs the
 * table's check rows, logging every problem ("config: VAR: ...") and exiting RT_EXIT_CONFIG (78) on
 * any; with --check-config it exits 0 right after a valid load, before starting anything; installs SIGTERM/SIGINT handlers (first: rt_stopping() becomes
 * true; second: exit at once) and ignores SIGPIPE; registers oraclebus_build_info; starts the HTTP
 * listeners, bound to HTTP_ADDR (default 0.0.0.0): HEALTH_PORT (8080: /health, /metrics and the
 * actor's routes) and METRICS_PORT (8000: /metrics only), the seed's ports; or, when HTTP_PORT is
 * set, that one port for everything (0 = none). A port that cannot be bound exits 1 with the
 * variable and port named. Before the listeners start it sets the health reason "starting"
 * (rt_starting(NULL), below), so /health answers 503 from its very first request. Returns 0, or -1
 * when the signal pipe cannot be made.
 *
 * Start-up and readiness (Kubernetes' readinessProbe and the tests read /health): the actor is
 * "starting" (/health 503, reason {"key":"starting"}) until
 *   - the actor called rt_ready(): its own setup is done (store open, bus opened, first RPC answer
 *     or poll where it has one: whatever it needs to do its job), and
 *   - every gate registered with rt_ready_gate holds (bus/actor.h's act_open registers one per
 *     bus handle: a connection to busd is up).
 * Then the reason is cleared once and for all (logged with the time since rt_init); what goes
 * wrong later is said by the actor's own reasons (rpc, store, lease, ...). Every actor must call
 * rt_ready exactly where its start-up ends: one that never does stays 503 forever.
 * Who owns what: the runtime owns the "starting" reason and its text; the actor owns its one
 * rt_ready call (further calls do nothing, so a loop may call it each round); a library owns the
 * gates it registers and removes them (rt_ready_gate_del) before freeing what they read.
 *
 * Memory: opts must outlive the process run (rt_shutdown frees what RT_LIST destinations own).
 * rt_instance returns a string owned by the runtime. rt_secret_alloc memory is released only by
 * rt_secret_free with the same size. */
#ifndef OB_BASE_RT_MAIN_H
#define OB_BASE_RT_MAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/rt_config.h"

int rt_init(const char *actor, int argc, char **argv, const rt_opt *opts, size_t nopts);
int rt_stopping(void);
void rt_request_stop(void);   /* async-signal-safe */
int rt_stop_fd(void);         /* readable once a stop is requested (for poll loops) */
int rt_sleep_ms(uint64_t ms); /* sleeps, waking early on stop; returns rt_stopping() */
uint64_t rt_now_ns(void);     /* CLOCK_REALTIME */
uint64_t rt_mono_ns(void);    /* CLOCK_MONOTONIC */
const char *rt_instance(void);
const char *rt_actor(void);
void rt_shutdown(void); /* stops HTTP, logs "stopped", frees config lists */

/* The start-up (see above). rt_starting: enters it (rt_init does) or, while in it, says what the
 * actor is doing ("starting: <what>"; NULL = plain "starting"); ignored once ready. rt_ready: the
 * actor's own setup is done; the reason goes as soon as every gate holds too. rt_is_ready: 1 once
 * the reason is gone (re-evaluates the gates). Thread-safe. */
void rt_starting(const char *what);
void rt_ready(void);
int rt_is_ready(void);
/* A condition the start-up waits for besides rt_ready: fn(arg) != 0 when it holds. It is asked
 * (under the health lock, on the HTTP thread too: quick, thread-safe, taking no lock held while
 * calling rt_health_*) whenever /health is rendered and by rt_ready / rt_is_ready, until the start-up
 * ends; what names it in the reason ("starting: waiting for <what>"). Returns an id for
 * rt_ready_gate_del, or 0 when not starting (nothing to wait for: no rt_init, or already ready). */
typedef int (*rt_ready_fn)(void *arg);
int rt_ready_gate(const char *what, rt_ready_fn fn, void *arg);
void rt_ready_gate_del(int id); /* 0 is ignored; after it returns fn is not called again */

/* For processes that hold keys: no core dumps, no ptrace by other users. */
void rt_no_core_dumps(void);
/* Page-aligned memory, mlock'ed where allowed, excluded from core dumps, zeroed. NULL on failure. */
void *rt_secret_alloc(size_t n);
void rt_secret_free(void *p, size_t n); /* explicit_bzero, munlock, unmap */

#endif
