/* model: one deployment read from its JSON configuration file (deploy/oraclebus.example.json), checked
 * as a whole: every problem is reported as "FILE:LINE: path: what is wrong" (the line from pos.h)
 * and counted; the caller exits 78 (EX_CONFIG) when there is any.
 *
 * Memory: obc_model keeps the parsed jansson document (root) and every string points into it or into
 * `own` (strings the model made); feeds and sources are allocated to their count; obc_model_free
 * releases all of it. Counts are bounded by the OBC_MAX_* below (more is a config error); why these
 * bounds: tools/ob-config/README.md "Bounds". */
#ifndef OB_TOOLS_OB_CONFIG_MODEL_H
#define OB_TOOLS_OB_CONFIG_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "tools/ob-config/pos.h"

#define OBC_MAX_FEEDS        4096  /* a deployment: four shards at the actors' limit */
#define OBC_MAX_SHARD_FEEDS  1024  /* one median's FEEDS (RT_LIST_MAX), one gate's FEEDS_FILE (GF_MAX_FEEDS) */
#define OBC_MAX_SIGNER_FEEDS 1024  /* one signer's FEEDS and aggregators (SGP_MAX_FEEDS, SGP_MAX_CONTRACTS) */
#define OBC_MAX_FEED_SOURCES 16    /* the median holds at most SC_MAX_SOURCES sources of one feed */
#define OBC_MAX_SOURCES      16384 /* four per feed at OBC_MAX_FEEDS */
#define OBC_MAX_GROUPS       16
#define OBC_MAX_SHARDS       16
#define OBC_MAX_SIGNERS      8

/* The bus key roles: one key pair per role, the public half in the config, the secret by reference
 * (a key of the k8s Secret bus.keys_secret, or <keys_dir>/<instance>.bus on a host). Signers and
 * submitters have one per pair (in signers[]). */
enum {
	OBC_ROLE_FETCHER,
	OBC_ROLE_MEDIAN,
	OBC_ROLE_GATE,
	OBC_ROLE_CCIP,
	OBC_ROLE_ALERTER,
	OBC_ROLE_TOKENIZER,
	OBC_ROLE_TOKEN_BACKEND,
	OBC_NROLES
};
extern const char *const obc_role_names[OBC_NROLES];

typedef struct {
	const char *name;
	int64_t decimals;
	const char *aggregator; /* as written (checked) */
	const char *deviation, *deviation_absolute, *heartbeat, *min_interval;
	const char *min_answer, *max_answer, *max_change; /* signer policy; NULL = none */
	int shard;
	int signer; /* index into signers */
	unsigned nsources;
} obc_feed;

typedef struct {
	json_t *obj; /* the source entry: its fields go to the fetcher's file (group and feed taken out) */
	int feed, group;
} obc_source;

typedef struct {
	const char *name;    /* signer-0: the pair's name; the submitter is submitter-<suffix> */
	const char *suffix;  /* "0" */
	const char *address; /* the key's address (checked) */
	const char *bus_pub, *submitter_bus_pub;
	const char *key_file;      /* host path of the hex key file, or NULL */
	const char *keystore_file; /* host path of a Web3 keystore (v3 JSON), or NULL */
	const char *keystore_pw;   /* host path of its password file (with keystore_file) */
	const char *key_secret;    /* k8s Secret holding private-key, or keystore.json and password, or NULL */
	const char *remote_url;    /* remote signer (Web3Signer, Clef), or NULL */
	const char *remote_method; /* or NULL */
	const char *tx_type, *gas_price;
	int64_t confirmations, finality_depth;
} obc_signer;

typedef struct {
	json_t *root;
	const char *file;
	obc_pos pos;
	unsigned nerr;

	const char *namespace_, *image, *log_level, *monitoring_ns;
	int64_t chain_id;
	const char *rpc_url; /* comma list */
	int bus_replicas;
	const char *journal_max_bytes, *journal_max_age;
	const char *tls_secret, *tls_dir; /* NULL = plain tcp:// */
	const char *keys_secret;
	const char *role_pub[OBC_NROLES];
	const char *etc_dir, *keys_dir, *state_dir, *bind;
	int64_t first_port;
	int64_t quorum;
	const char *window, *fetch_interval;

	obc_feed *feeds; /* nfeeds of them (allocated) */
	unsigned nfeeds;
	obc_source *sources; /* nsources of them (allocated) */
	unsigned nsources;
	json_t *feed_ix; /* feed name -> index into feeds (an object used as a hash table) */
	json_t *own;     /* strings the model made (the chain's rpc_url list, the erc20 tokens, ...) */
	const char *groups[OBC_MAX_GROUPS];
	unsigned ngroups;
	unsigned nshards;
	obc_signer signers[OBC_MAX_SIGNERS];
	unsigned nsigners;

	json_t *ccip_chains; /* borrowed from root; NULL = no ccip-tail */
	const char *ccip_interval, *ccip_overdue, *ccip_commit_overdue;
	json_t *sinks; /* borrowed; NULL = no alerter */
	const char *sinks_secret;
	json_t *token_config; /* borrowed; NULL = no tokenizer */
	const char *pending_alert;
	/* the token backends, each present when a token of token_config names it */
	int has_firefly, has_erc20;
	const char *ff_url, *ff_namespace, *ff_key; /* FIREFLY_URL, _NAMESPACE, _KEY (an address or alias) */
	const char *erc20_tokens;                   /* comma list of the erc20 tokens' contracts (TOKENS) */
	int erc20_signer;                           /* index into signers: the one that signs its tx.requests */
	int64_t erc20_gas_limit;
	const char *erc20_burn, *erc20_transfer; /* BURN_FUNCTION, TRANSFER_FUNCTION */
} obc_model;

/* Reads and checks file; 0 when the text parsed (m->nerr says whether it is valid), -1 when it could
 * not be read or parsed at all (reported). */
int obc_model_load(obc_model *m, const char *file);
void obc_model_free(obc_model *m);

/* Reports one problem at path (its line from the file). */
void obc_err(obc_model *m, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
