/* classify.h - node error messages (geth, Besu, Nethermind, Erigon, reth, anvil) -> what the
 * submitter does about them. Nodes return these as JSON-RPC error messages with codes that vary
 * by client (-32000, -32003, -32010, ...), so the message text is what identifies them; the table
 * in classify.c is ordered most specific first and matched case-insensitively.
 *
 * Memory: returns pointers to static entries. */
#ifndef OB_ACTORS_SUBMITTER_CLASSIFY_H
#define OB_ACTORS_SUBMITTER_CLASSIFY_H

enum {
	SUB_ACT_SENT,       /* the node has it: count as sent (already known) */
	SUB_ACT_NONCE_USED, /* nonce too low: ours mined (fine) or someone else's (nonce_gap) */
	SUB_ACT_RETRY,      /* keep pending, send again later (funds, fees below the node's floor) */
	SUB_ACT_BUMP,       /* the fee is too low to be accepted: keep pending and bump (sub_follow) */
	SUB_ACT_FATAL,      /* this transaction can never be mined as signed: failed */
};

typedef struct {
	const char *needle; /* lowercase substring of the node's message */
	const char *name;   /* metric label class: oracle_update_errors_total{class} */
	int sc_err;         /* SC_TXERR_* for tx.status */
	int action;         /* SUB_ACT_* */
} sub_class;

/* The class of a node error message; never NULL (unknown messages: class "other", retry). */
const sub_class *sub_classify(const char *msg);
/* The class used for transport failures (no node answered). */
const sub_class *sub_class_rpc(void);
/* Every class name (for pre-registering metrics), NULL-terminated. */
const char *const *sub_class_names(void);

#endif
