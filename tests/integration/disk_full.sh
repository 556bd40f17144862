#!/usr/bin/env bash
# A full disk is called by its name and makes the actor unhealthy, and both recover when space
# returns: busd's journal and the signer's store each on a small tmpfs of their own (mounted by the
# test: it runs as root, as CI does), filled up by a file, then written to. LMDB reports the cut-short
# write as EIO; /health must say "No space left on device" (503), and 200 again after the file goes.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
BUILD=${BUILD:-build}
BUSD=$BUILD/bin/busd TAP=$BUILD/bin/bus-tap SIGNER=$BUILD/bin/signer
MNT=$TMP/mnt
mkdir -p "$MNT/busd" "$MNT/signer"
mount -t tmpfs -o size=3m tmpfs "$MNT/busd" || fail "cannot mount a tmpfs (the test needs root)"
mount -t tmpfs -o size=3m tmpfs "$MNT/signer" || { umount "$MNT/busd"; fail "cannot mount a tmpfs"; }
on_exit() { umount -l "$MNT/busd" "$MNT/signer" 2>/dev/null || true; }
IN=ipc://$TMP/in.ipc OUT=ipc://$TMP/out.ipc
BP=$(free_port) SP=$(free_port)
KEY=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d # anvil dev key #1 (public)
ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
CON=0x5fbdb2315678afecb367f032d93f642f64180aa3
{ read -r _ GSEC; read -r _ GPUB; } < <("$TAP" --keygen)

BUSD_INGRESS=$IN BUSD_EGRESS=$OUT JOURNAL_DIR=$MNT/busd/journal JOURNAL_MAP_SIZE=1048576 JOURNAL_FLUSH_MS=10 \
	HTTP_PORT=$BP HTTP_ADDR=127.0.0.1 INSTANCE=busd "$BUSD" 2>>"$TMP/busd.log" &
PIDS+=($!)
ALLOW_EMPTY_STATE=true BUS_PUB_URL=$IN BUS_SUB_URL=$OUT BUS_TRUST="price.update.=$GPUB" STATE_DIR=$MNT/signer/state \
	PRIVATE_KEY=$KEY ALLOWED_CONTRACTS=$CON GAS_PRICE=0 MIN_ANSWER=1 MAX_ANSWER=100000000000000 OUTBOX_RETRY=1h \
	HTTP_PORT=$SP HTTP_ADDR=127.0.0.1 INSTANCE=signer-0 "$SIGNER" 2>>"$TMP/signer.log" &
PIDS+=($!)
health() { curl -s "http://127.0.0.1:$1/health"; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health"; }
wait_for 90 "busd healthy" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$BP/health) = 200 ]"
pub() { "$TAP" --url "$IN" --publish "$@" >/dev/null 2>>"$TMP/tap.log"; }
SYNC="{\"chain_id\":138,\"address\":\"$ADDR\",\"latest_nonce\":0,\"pending_nonce\":0,\"block_number\":1,\"synced_at_ns\":1}"
for _ in $(seq 50); do pub nonce.sync --json "$SYNC"; [ "$(code "$SP")" = 200 ] && break; sleep 0.2; done
[ "$(code "$SP")" = 200 ] || fail "signer not healthy after nonce.sync: $(health "$SP")"
n=0
update() { # signs one price.update with a fresh id (the gate's key)
	n=$((n + 1))
	BUS_SIGNING_KEY=$GSEC pub "price.update.ETH-USD" --json \
		"{\"feed\":\"ETH-USD\",\"answer\":\"$((300000000000 + n))\",\"decimals\":8,\"reason\":\"deviation\",\"chain_id\":138,\"contract\":\"$CON\",\"decided_at_ns\":$n}"
}
update
echo "both healthy; filling both disks"
dd if=/dev/zero of="$MNT/busd/filler" bs=64k 2>/dev/null || true
dd if=/dev/zero of="$MNT/signer/filler" bs=64k 2>/dev/null || true
says_full() { health "$1" | grep -q 'No space left on device'; }
for _ in $(seq 200); do # every write needs new pages sooner or later
	pub test.fill --type test --hex "$(printf 'ab%.0s' $(seq 900))" --repeat 20 --interval 0
	update
	says_full "$BP" && says_full "$SP" && break
	sleep 0.1
done
says_full "$BP" || fail "busd health with a full disk: $(health "$BP")"
says_full "$SP" || fail "signer health with a full disk: $(health "$SP")"
[ "$(code "$BP")" = 503 ] && [ "$(code "$SP")" = 503 ] || fail "full disk but /health not 503"
echo "ok: both 503 with 'No space left on device'"
rm -f "$MNT/busd/filler" "$MNT/signer/filler"
for _ in $(seq 200); do
	pub test.fill --type test --hex abcd
	update
	[ "$(code "$BP")" = 200 ] && [ "$(code "$SP")" = 200 ] && break
	sleep 0.1
done
[ "$(code "$BP")" = 200 ] || fail "busd did not recover: $(health "$BP")"
[ "$(code "$SP")" = 200 ] || fail "signer did not recover: $(health "$SP")"
echo "disk_full: both say 'No space left on device' (503) and recover once space returns"
