/*
 * tls_test.c - the bus's TLS identity (tls.h) refuses what cannot work, naming the variable at
 * fault, and leaves TLS off: a missing file, text that is not PEM, a key without its certificate,
 * a key of another certificate, a CA file that is not PEM, an oversized file; a configuration asked
 * for without an identity or for a bad URL. A good identity (a key and certificate made here with
 * libcrypto, in a temporary directory) is the control: it loads and yields both sides' configurations.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "bus/tls.h"

typedef struct {
	char dir[64];
	char crt[128], key[128], other_key[128], junk[128], big[128], missing[128];
} tt_files;

static void
tt_path(char *out, size_t n, const tt_files *f, const char *name)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

static void
tt_write_key(const char *path, EVP_PKEY *k)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(fp);
}

/* A self-signed P-256 certificate (it is its own CA here), its key, and a key of no certificate. */
static int
tt_setup(void **state)
{
	tt_files *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ob-tls-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	tt_path(f->crt, sizeof f->crt, f, "pod.crt");
	tt_path(f->key, sizeof f->key, f, "pod.key");
	tt_path(f->other_key, sizeof f->other_key, f, "other.key");
	tt_path(f->junk, sizeof f->junk, f, "junk.pem");
	tt_path(f->big, sizeof f->big, f, "big.pem");
	tt_path(f->missing, sizeof f->missing, f, "missing.pem");

	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(k);
	assert_non_null(other);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tls-test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	FILE *fp = fopen(f->crt, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
	tt_write_key(f->key, k);
	tt_write_key(f->other_key, other);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);

	fp = fopen(f->junk, "w");
	assert_non_null(fp);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", fp);
	fclose(fp);
	fp = fopen(f->big, "w");
	assert_non_null(fp);
	for (int i = 0; i < 2 * 1024; i++)
		fprintf(fp, "%01023d\n", 0); /* 2 MiB: over the 1 MiB a PEM file may have */
	fclose(fp);
	*state = f;
	return 0;
}

static int
tt_teardown(void **state)
{
	tt_files *f = *state;
	bus_tls_clear();
	unlink(f->crt);
	unlink(f->key);
	unlink(f->other_key);
	unlink(f->junk);
	unlink(f->big);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* bus_tls_set fails with OB_EBUS_TLS, says want in err, and leaves TLS off. */
static void
tt_refused(const char *cert, const char *key, const char *ca, const char *want)
{
	char err[400] = "";
	assert_int_equal(bus_tls_set(cert, key, ca, err, sizeof err), OB_EBUS_TLS);
	if (strstr(err, want) == NULL)
		fail_msg("err \"%s\" does not say \"%s\"", err, want);
	assert_null(strstr(err, "PRIVATE KEY")); /* no key text in an error */
	assert_int_equal(bus_tls_enabled(), 0);
}

static void
test_good_identity(void **state)
{
	tt_files *f = *state;
	char err[400] = "";
	nng_tls_config *c = NULL;
	int rc = bus_tls_set(f->crt, f->key, f->crt, err, sizeof err);
	if (rc != OB_OK)
		fail_msg("bus_tls_set: %d %s", rc, err);
	assert_int_equal(bus_tls_enabled(), 1);
	assert_int_equal(bus_tls_config_url("tls+tcp://127.0.0.1:7000", 0, &c, err, sizeof err), OB_OK);
	assert_non_null(c);
	nng_tls_config_free(c);
	c = NULL;
	assert_int_equal(bus_tls_config_url("tls+tcp://127.0.0.1:7000", 1, &c, err, sizeof err), OB_OK);
	assert_non_null(c);
	nng_tls_config_free(c);
	/* all three empty turns TLS off again */
	assert_int_equal(bus_tls_set("", NULL, "", err, sizeof err), OB_OK);
	assert_int_equal(bus_tls_enabled(), 0);
}

static void
test_missing_files(void **state)
{
	tt_files *f = *state;
	tt_refused(f->missing, f->key, f->crt, "BUS_TLS_CERT: ");
	tt_refused(f->missing, f->key, f->crt, f->missing);
	tt_refused(f->crt, f->missing, f->crt, "BUS_TLS_KEY: ");
	tt_refused(f->crt, f->missing, f->crt, "No such file");
	tt_refused(f->crt, f->key, f->missing, "BUS_TLS_CA: ");
	tt_refused(f->big, f->key, f->crt, "too large");
}

static void
test_bad_pem(void **state)
{
	tt_files *f = *state;
	tt_refused(f->junk, f->key, f->crt, "BUS_TLS_CERT: no PEM certificate");
	tt_refused(f->key, f->key, f->crt, "BUS_TLS_CERT: no PEM certificate");
	tt_refused(f->crt, f->junk, f->crt, "BUS_TLS_KEY: no unencrypted PEM private key");
	tt_refused(f->crt, f->crt, f->crt, "BUS_TLS_KEY: no unencrypted PEM private key");
	tt_refused(f->crt, f->key, f->junk, "BUS_TLS_CA (PEM CA certificates)");
}

static void
test_key_without_its_cert(void **state)
{
	tt_files *f = *state;
	tt_refused(NULL, f->key, f->crt, "go together");
	tt_refused("", f->key, "", "go together");
	tt_refused(f->crt, f->other_key, f->crt, "BUS_TLS_KEY: not the private key of BUS_TLS_CERT's certificate");
}

/* A refusal after a good identity drops it: nothing half-loaded stays in use. */
static void
test_refusal_clears(void **state)
{
	tt_files *f = *state;
	char err[400];
	assert_int_equal(bus_tls_set(f->crt, f->key, f->crt, err, sizeof err), OB_OK);
	assert_int_equal(bus_tls_enabled(), 1);
	tt_refused(f->crt, f->other_key, f->crt, "not the private key");
}

static void
test_config_refused(void **state)
{
	tt_files *f = *state;
	char err[400] = "";
	nng_tls_config *c = NULL;
	bus_tls_clear();
	assert_int_equal(bus_tls_config_url("tls+tcp://127.0.0.1:7000", 0, &c, err, sizeof err), OB_EBUS_TLS);
	assert_null(c);
	assert_string_equal(err, "tls+tcp://127.0.0.1:7000: tls+tcp:// needs BUS_TLS_CERT, BUS_TLS_KEY and BUS_TLS_CA");
	assert_int_equal(bus_tls_config_url("tls+tcp://127.0.0.1:7000", 1, &c, err, sizeof err), OB_EBUS_TLS);
	assert_null(c);
	assert_int_equal(bus_tls_set(f->crt, f->key, f->crt, err, sizeof err), OB_OK);
	assert_int_equal(bus_tls_config_url("no url", 0, &c, err, sizeof err), OB_EBUS_TLS);
	assert_null(c);
	assert_non_null(strstr(err, "no url: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_identity),  cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_bad_pem),        cmocka_unit_test(test_key_without_its_cert),
		cmocka_unit_test(test_refusal_clears), cmocka_unit_test(test_config_refused),
	};
	return cmocka_run_group_tests(tests, tt_setup, tt_teardown);
}
