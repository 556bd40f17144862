/*
 * err.h - the project's one error space: every int error code a module returns is one of these,
 * so a code means one thing wherever it travels (as LMDB's and NNG's do in their libraries).
 *
 * Ranges (distinct, so no value is two things at once):
 *   0                      OB_OK
 *   1 .. 4095              errno values, as they are (ENOMEM, EIO, ENOSPC, ...): ob_strerror says
 *                          strerror's text. ob_err_errno() maps an errno to this range.
 *   -30799 .. -30780       LMDB's own codes, with LMDB's values (OB_ENOTFOUND == MDB_NOTFOUND, ...),
 *                          so store/ returns what LMDB returned without translating; store.c
 *                          checks at compile time that the values agree.
 *   -40099 .. -40000       store/ (a stored record that does not decode, an integrity check)
 *   -40199 .. -40100       bus/ (BUS_* are these values)
 *   -40299 .. -40200       chain/rpc (RPC_E* are these values)
 *   -40399 .. -40300       keys: chain/keystore (KS_E*) and chain/rsign (RS_E*)
 *
 * Not in this space: policy refusals and similar decisions ("this request is not allowed"). They
 * are outcomes, not failures, and travel in their own field (the signer's sg_result.reason), never
 * in the int that carries an error code. (The signer once read a negated LMDB code as "already
 * signed", and its refusal reason 11 was also EAGAIN: that is what this header ends.)
 *
 * OB_MUST_CHECK marks functions whose result must not be dropped (store writes and commits, bus
 * publishes): ignoring one is a compile error under -Werror, and a (void) cast does not silence it.
 *
 * Memory: ob_strerror returns static text (or, for errno values, strerror's); nothing to free.
 */
#ifndef OB_BASE_ERR_H
#define OB_BASE_ERR_H

#define OB_MUST_CHECK __attribute__((warn_unused_result))

enum ob_err {
	OB_OK = 0,
	OB_ERRNO_MAX = 4095,

	/* LMDB (store/): the values of lmdb.h's MDB_* codes. */
	OB_EKEYEXIST = -30799, /* key already in the table (st_put_new, ob_put) */
	OB_ENOTFOUND = -30798, /* no such key / end of iteration: not an error, an answer */
	OB_EPAGE_NOTFOUND = -30797,
	OB_ECORRUPTED = -30796, /* LMDB found a corrupt page */
	OB_EPANIC = -30795,
	OB_EVERSION = -30794,
	OB_EINVALID_ENV = -30793, /* not an LMDB file */
	OB_EMAPFULL = -30792,     /* map full (st_write grows it and retries) */
	OB_EDBSFULL = -30791,
	OB_EREADERSFULL = -30790,
	OB_ETLSFULL = -30789,
	OB_ETXNFULL = -30788,
	OB_ECURSORFULL = -30787,
	OB_EPAGEFULL = -30786,
	OB_EMAPRESIZED = -30785,
	OB_EINCOMPATIBLE = -30784,
	OB_EBADRSLOT = -30783,
	OB_EBADTXN = -30782,
	OB_EBADVALSIZE = -30781,
	OB_EBADDBI = -30780,
	OB_LMDB_FIRST = OB_EKEYEXIST,
	OB_LMDB_LAST = OB_EBADDBI,

	/* store/ */
	OB_ESCHEMA = -40000,  /* a stored value does not decode as its record (corrupt or foreign) */
	OB_ECORRUPT = -40001, /* a stored value has the wrong size or breaks an invariant */
	OB_EDAMAGED = -40002, /* the LMDB file is damaged (empty, truncated, not LMDB, unreadable tables) */
	OB_EENCODE = -40003,  /* a record or message to store does not encode through its schema (a field out
	                         of bounds): the input is at fault, nothing was written */

	/* bus/ */
	OB_EBUS_TIMEOUT = -40100, /* nothing arrived within the timeout */
	OB_EBUS_DECODE = -40101,  /* a malformed frame arrived */
	OB_EBUS_REJECT = -40102,  /* a frame failed the signature / trust check */
	OB_EBUS_CLOSED = -40103,  /* the socket was closed */
	OB_EBUS_INVAL = -40104,   /* bad argument to publish (topic, type, origin or body) */
	OB_EBUS_SEND = -40105,    /* NNG refused the send */
	OB_EBUS_TLS = -40106,     /* the TLS identity (BUS_TLS_*) or a tls+ URL's configuration is unusable */

	/* chain/rpc */
	OB_ERPC_TRANSPORT = -40200, /* no endpoint answered (connect, timeout, HTTP, wrong chain) */
	OB_ERPC_NODE = -40201,      /* the node answered with a JSON-RPC error */
	OB_ERPC_DECODE = -40202,    /* the node's answer is not what the method returns */
	OB_ERPC_NOTFOUND = -40203,  /* the node has no such object (receipt, block, tx) */
	OB_ERPC_NOBATCH = -40204,   /* the endpoint answered a batch request with one error: no batches */

	/* keys: chain/keystore, chain/rsign */
	OB_EKS_FORMAT = -40300,    /* not a v3 keystore (JSON, a missing or malformed field, a wrong length) */
	OB_EKS_PARAMS = -40301,    /* keystore KDF parameters weak or absurd (outside the limits) */
	OB_EKS_MAC = -40302,       /* keystore MAC mismatch: wrong password, or the file was altered */
	OB_EKS_KEY = -40303,       /* the decrypted key is not a valid secp256k1 key */
	OB_EKS_ADDR = -40304,      /* the keystore's address is not its key's */
	OB_EKS_CRYPTO = -40305,    /* libcrypto failed (out of memory) */
	OB_ERS_TRANSPORT = -40320, /* remote signer unreachable (connect, timeout, HTTP status, too big) */
	OB_ERS_REFUSED = -40321,   /* remote signer answered with a JSON-RPC error */
	OB_ERS_MISMATCH = -40322,  /* remote signer's tx is not the one asked for, or not from the address */
};

/* One line of text for any code of the space (never NULL); "unknown error -N" for others. */
const char *ob_strerror(int code);
/* "ok", "errno", "lmdb", "store", "bus", "rpc", "keys" or "unknown": a metric label for a code. */
const char *ob_err_class(int code);
/* An errno value into the space (0 and out-of-range values become EIO: a failure, never OK). */
int ob_err_errno(int e);
/* 1 when the code says stored data cannot be trusted (corrupt page, undecodable or malformed
 * record): the operator must look, retrying will not help. */
int ob_err_integrity(int code);

#endif
