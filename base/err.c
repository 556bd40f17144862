/* err.c - text and classes of the project's error codes (see err.h). */
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* LMDB's texts (mdb_strerror's, which base/ cannot call: it links nothing), by code. */
static const char *const ob_lmdb_text[] = {
	"MDB_KEYEXIST: Key/data pair already exists",
	"MDB_NOTFOUND: No matching key/data pair found",
	"MDB_PAGE_NOTFOUND: Requested page not found",
	"MDB_CORRUPTED: Located page was wrong type",
	"MDB_PANIC: Update of meta page failed or environment had fatal error",
	"MDB_VERSION_MISMATCH: Database environment version mismatch",
	"MDB_INVALID: File is not an LMDB file",
	"MDB_MAP_FULL: Environment mapsize limit reached",
	"MDB_DBS_FULL: Environment maxdbs limit reached",
	"MDB_READERS_FULL: Environment maxreaders limit reached",
	"MDB_TLS_FULL: Thread-local storage keys full - too many environments open",
	"MDB_TXN_FULL: Transaction has too many dirty pages - transaction too big",
	"MDB_CURSOR_FULL: Internal error - cursor stack limit reached",
	"MDB_PAGE_FULL: Internal error - page has no more space",
	"MDB_MAP_RESIZED: Database contents grew beyond environment mapsize",
	"MDB_INCOMPATIBLE: Operation and DB incompatible, or DB flags changed",
	"MDB_BAD_RSLOT: Invalid reuse of reader locktable slot",
	"MDB_BAD_TXN: Transaction must abort, has a child, or is invalid",
	"MDB_BAD_VALSIZE: Unsupported size of key/DB name/data, or wrong DUPFIXED size",
	"MDB_BAD_DBI: The specified DBI handle was closed/changed unexpectedly",
};

static const struct {
	int code;
	const char *text;
} ob_texts[] = {
	{ OB_ESCHEMA, "stored record does not decode" },
	{ OB_ECORRUPT, "stored record is malformed" },
	{ OB_EDAMAGED, "LMDB file is damaged" },
	{ OB_EENCODE, "record does not encode through its schema" },
	{ OB_EBUS_TIMEOUT, "bus: timed out" },
	{ OB_EBUS_DECODE, "bus: malformed frame" },
	{ OB_EBUS_REJECT, "bus: frame rejected by the trust check" },
	{ OB_EBUS_CLOSED, "bus: socket closed" },
	{ OB_EBUS_INVAL, "bus: invalid argument" },
	{ OB_EBUS_SEND, "bus: send refused" },
	{ OB_EBUS_TLS, "bus: TLS identity or configuration unusable" },
	{ OB_ERPC_TRANSPORT, "rpc: no endpoint answered" },
	{ OB_ERPC_NODE, "rpc: the node answered with an error" },
	{ OB_ERPC_DECODE, "rpc: unexpected answer" },
	{ OB_ERPC_NOTFOUND, "rpc: not found" },
	{ OB_ERPC_NOBATCH, "rpc: the endpoint does not take batch requests" },
	{ OB_EKS_FORMAT, "keystore: not a v3 keystore" },
	{ OB_EKS_PARAMS, "keystore: KDF parameters refused" },
	{ OB_EKS_MAC, "keystore: MAC mismatch (wrong password, or the file was altered)" },
	{ OB_EKS_KEY, "keystore: not a valid secp256k1 key" },
	{ OB_EKS_ADDR, "keystore: address is not the key's" },
	{ OB_EKS_CRYPTO, "keystore: libcrypto failed" },
	{ OB_ERS_TRANSPORT, "remote signer: unreachable" },
	{ OB_ERS_REFUSED, "remote signer: refused" },
	{ OB_ERS_MISMATCH, "remote signer: returned another transaction or sender" },
};

const char *
ob_strerror(int code)
{
	static __thread char buf[40];
	if (code == OB_OK)
		return "ok";
	if (code > 0 && code <= OB_ERRNO_MAX)
		return strerror(code);
	if (code >= OB_LMDB_FIRST && code <= OB_LMDB_LAST)
		return ob_lmdb_text[code - OB_LMDB_FIRST];
	for (size_t i = 0; i < sizeof ob_texts / sizeof ob_texts[0]; i++)
		if (ob_texts[i].code == code)
			return ob_texts[i].text;
	snprintf(buf, sizeof buf, "unknown error %d", code);
	return buf;
}

const char *
ob_err_class(int code)
{
	if (code == OB_OK)
		return "ok";
	if (code > 0 && code <= OB_ERRNO_MAX)
		return "errno";
	if (code >= OB_LMDB_FIRST && code <= OB_LMDB_LAST)
		return "lmdb";
	if (code <= -40000 && code > -40100)
		return "store";
	if (code <= -40100 && code > -40200)
		return "bus";
	if (code <= -40200 && code > -40300)
		return "rpc";
	if (code <= -40300 && code > -40400)
		return "keys";
	return "unknown";
}

int
ob_err_errno(int e)
{
	return e > 0 && e <= OB_ERRNO_MAX ? e : EIO;
}

int
ob_err_integrity(int code)
{
	return code == OB_ESCHEMA || code == OB_ECORRUPT || code == OB_EDAMAGED || code == OB_ECORRUPTED ||
	       code == OB_EPAGE_NOTFOUND || code == OB_EPANIC || code == OB_EINVALID_ENV || code == OB_EVERSION;
}
