/*
 * tls.c - the bus's TLS identity and the NNG TLS configurations built from it (see tls.h).
 *
 * NNG's TLS is mbedTLS; it is handed the PEM text (read here once) and the CA file's path. The
 * pairing of key and certificate is checked with OpenSSL's libcrypto (a dependency already),
 * because mbedTLS takes a foreign key and only fails at the first handshake.
 */
#include "bus/tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	char *cert, *key; /* PEM text; key wiped on clear */
	size_t key_len;
	char *ca_file;
} bus_tls;

/* path's whole text, NUL-terminated, at most 1 MiB (a PEM file is a few KiB); a buffer given up on
 * is wiped first, as it may hold key bytes. The caller frees it. NULL + err. */
static char *
bus_tls_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			char *nb = cap >= (1u << 20) ? NULL : realloc(buf, cap = cap ? cap * 2 : 8192);
			if (nb == NULL) {
				snprintf(err, errlen, "%s: too large or out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
fail:
	if (buf) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	fclose(f);
	return NULL;
}

void
bus_tls_clear(void)
{
	free(bus_tls.cert);
	if (bus_tls.key) {
		explicit_bzero(bus_tls.key, bus_tls.key_len);
		free(bus_tls.key);
	}
	free(bus_tls.ca_file);
	memset(&bus_tls, 0, sizeof bus_tls);
}

int
bus_tls_enabled(void)
{
	return bus_tls.cert != NULL;
}

/* A new configuration carrying the identity (server: listener side, else dialer side checking
 * server_name when not NULL or empty). NULL + err. */
static nng_tls_config *
bus_tls_config_new(int server, const char *server_name, char *err, size_t errlen)
{
	nng_tls_config *c;
	int rv;
	const char *what = "tls config";
	if (!bus_tls_enabled()) {
		snprintf(err, errlen, "tls+tcp:// needs BUS_TLS_CERT, BUS_TLS_KEY and BUS_TLS_CA");
		return NULL;
	}
	if ((rv = nng_tls_config_alloc(&c, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) != 0) {
		snprintf(err, errlen, "%s: %s", what, nng_strerror(rv));
		return NULL;
	}
	if ((rv = nng_tls_config_own_cert(c, bus_tls.cert, bus_tls.key, NULL)) != 0)
		what = "BUS_TLS_CERT/BUS_TLS_KEY (certificate and key must be PEM and belong together)";
	else if ((rv = nng_tls_config_ca_file(c, bus_tls.ca_file)) != 0)
		what = "BUS_TLS_CA (PEM CA certificates)";
	else if ((rv = nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		what = "tls auth mode";
	else if (!server && server_name && *server_name && (rv = nng_tls_config_server_name(c, server_name)) != 0)
		what = "tls server name";
	else if ((rv = nng_tls_config_version(c, NNG_TLS_1_2, NNG_TLS_1_3)) != 0 &&
	         (rv = nng_tls_config_version(c, NNG_TLS_1_2, NNG_TLS_1_2)) != 0)
		what = "tls version";
	if (rv != 0) {
		snprintf(err, errlen, "%s: %s", what, nng_strerror(rv));
		nng_tls_config_free(c);
		return NULL;
	}
	return c;
}

/* mbedTLS (NNG's TLS) takes a key that does not belong to the certificate and only fails at the
 * first handshake; OpenSSL's libcrypto (a dependency already) says so now. 0 or -1. */
static int
bus_tls_pair_ok(const char *cert_pem, const char *key_pem, size_t key_len, char *err, size_t errlen)
{
	BIO *bc = BIO_new_mem_buf(cert_pem, -1), *bk = BIO_new_mem_buf(key_pem, (int)key_len);
	X509 *x = bc ? PEM_read_bio_X509(bc, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = bk ? PEM_read_bio_PrivateKey(bk, NULL, NULL, (void *)"") : NULL;
	int rv = -1;
	if (x == NULL)
		snprintf(err, errlen, "BUS_TLS_CERT: no PEM certificate");
	else if (k == NULL)
		snprintf(err, errlen, "BUS_TLS_KEY: no unencrypted PEM private key");
	else if (X509_check_private_key(x, k) != 1)
		snprintf(err, errlen, "BUS_TLS_KEY: not the private key of BUS_TLS_CERT's certificate");
	else
		rv = 0;
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(bc);
	BIO_free(bk);
	return rv;
}

int
bus_tls_set(const char *cert_file, const char *key_file, const char *ca_file, char *err, size_t errlen)
{
	int given = (cert_file && *cert_file) + (key_file && *key_file) + (ca_file && *ca_file);
	bus_tls_clear();
	if (given == 0)
		return OB_OK;
	if (given != 3) {
		snprintf(err, errlen, "BUS_TLS_CERT, BUS_TLS_KEY and BUS_TLS_CA go together (set all three or none)");
		return OB_EBUS_TLS;
	}
	char sub[200];
	if ((bus_tls.cert = bus_tls_read_file(cert_file, NULL, sub, sizeof sub)) == NULL) {
		snprintf(err, errlen, "BUS_TLS_CERT: %s", sub);
		goto fail;
	}
	if ((bus_tls.key = bus_tls_read_file(key_file, &bus_tls.key_len, sub, sizeof sub)) == NULL) {
		snprintf(err, errlen, "BUS_TLS_KEY: %s", sub);
		goto fail;
	}
	if (access(ca_file, R_OK) != 0) {
		snprintf(err, errlen, "BUS_TLS_CA: %s: %s", ca_file, strerror(errno));
		goto fail;
	}
	if ((bus_tls.ca_file = strdup(ca_file)) == NULL) {
		snprintf(err, errlen, "BUS_TLS_CA: out of memory");
		goto fail;
	}
	if (bus_tls_pair_ok(bus_tls.cert, bus_tls.key, bus_tls.key_len, err, errlen) != 0)
		goto fail;
	/* Build both sides once, so a bad file is a configuration error now, not a dial failure later. */
	nng_tls_config *c = bus_tls_config_new(1, NULL, err, errlen);
	if (c == NULL)
		goto fail;
	nng_tls_config_free(c);
	if ((c = bus_tls_config_new(0, NULL, err, errlen)) == NULL)
		goto fail;
	nng_tls_config_free(c);
	return OB_OK;
fail:
	bus_tls_clear();
	return OB_EBUS_TLS;
}

int
bus_tls_config_url(const char *url, int server, nng_tls_config **out, char *err, size_t errlen)
{
	nng_url *u = NULL;
	char sub[200];
	int rv = nng_url_parse(&u, url);
	if (rv != 0) {
		snprintf(err, errlen, "%s: %s", url, nng_strerror(rv));
		return OB_EBUS_TLS;
	}
	nng_tls_config *c = bus_tls_config_new(server, u->u_hostname, sub, sizeof sub);
	nng_url_free(u);
	if (c == NULL) {
		snprintf(err, errlen, "%s: %s", url, sub);
		return OB_EBUS_TLS;
	}
	*out = c;
	return OB_OK;
}
