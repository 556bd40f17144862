/*
 * tls.h - this process's TLS identity for tls+tcp:// bus URLs, and the one place an NNG TLS
 * configuration is built from it: bus.c's socket dialers and listeners, bus_sub's stream readers
 * and busd's egress listener all take theirs from bus_tls_config_url.
 *
 * TLS is mutual: both sides present a certificate signed by the bus CA. bus_tls_set gives this
 * process its identity: cert_file (PEM, leaf first, may hold the chain), key_file (PEM private key,
 * read once and kept in memory, never logged), ca_file (PEM CA bundle the peer's certificate must
 * chain to). From then on every tls+tcp:// URL dialed or listened on uses it: a listener refuses
 * clients without a valid certificate (NNG_TLS_AUTH_MODE_REQUIRED), a dialer checks the server's
 * certificate and its name against the URL's host. All three empty or NULL turns TLS off (a
 * tls+tcp:// URL then fails with a clear error). Call before opening sockets (the identity is not
 * locked: set it while no other thread builds a configuration).
 *
 * Errors: OB_OK, or OB_EBUS_TLS (base/err.h) with err filled: a text naming the variable at fault
 * (BUS_TLS_CERT, BUS_TLS_KEY, BUS_TLS_CA) or the URL, never a key byte.
 *
 * Memory: the identity is this module's (process-wide; the key bytes are wiped by bus_tls_clear
 * and by a bus_tls_set that replaces them). A configuration bus_tls_config_url returns is the
 * caller's: release it with nng_tls_config_free (an NNG endpoint given it keeps its own reference).
 */
#ifndef OB_BUS_TLS_H
#define OB_BUS_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stddef.h>

#include "base/err.h"

/* Loads the identity (see above): the files are read, the key must be the certificate's, and both
 * sides' configurations are built once, so a bad file fails here and not at a dial. On failure
 * the identity is cleared (TLS off). */
int bus_tls_set(const char *cert_file, const char *key_file, const char *ca_file, char *err, size_t errlen);
/* 1 when an identity is loaded. */
int bus_tls_enabled(void);
/* Drops the identity (the key bytes are wiped). */
void bus_tls_clear(void);
/* A new configuration for the tls+ URL url: server (listener side), or dialer side checking the
 * server's certificate against the URL's host. *out is set on OB_OK only; err is "url: why". */
int bus_tls_config_url(const char *url, int server, nng_tls_config **out, char *err, size_t errlen);

#endif
