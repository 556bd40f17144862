#!/usr/bin/env node
// Drives firefly-double.js through the published @hyperledger/firefly-sdk client (unchanged), plus raw
// HTTP where the SDK hides the status code, and checks FireFly's behaviour: pools, mint/transfer/burn
// (async 202 and confirm=true), operation/transaction status, idempotency replay (409 FF10431 and the
// resubmit of a never-submitted operation), the failure modes of tokenization-facts.md, and events
// over a durable WebSocket subscription and a webhook (at-least-once: every id counted).
// Prints one JSON line on stdout: the balances and counts the chain must show, for the caller to check
// with cast. Exits 1 with "FAIL: ..." on the first wrong answer.
// Env: FF_URL, FF_ADMIN_URL (the double's admin listener), RPC_URL, POOL_ADDRESS, ORG (the double's
//      default key, minter and burner), A (a custodial key the double also holds), B, B_KEY (B's
//      private key, to approve ORG), EXPECT_DUPLICATES (1: the double was started with
//      FF_DOUBLE_DUPLICATE_EVENTS=1), DEADLINE_S (60 per wait).
'use strict';
const http = require('http');
const { ethers } = require('ethers');
const sdk = require('@hyperledger/firefly-sdk');

const FireFly = sdk.default;
const { FireFlyIdempotencyError, FireFlyError } = sdk;
const env = process.env;
const FF_URL = env.FF_URL;
const ADMIN = env.FF_ADMIN_URL;
const NS_URL = `${FF_URL}/api/v1/namespaces/default`;
const ORG = env.ORG.toLowerCase();
const A = env.A.toLowerCase();
const B = env.B.toLowerCase();
const DEADLINE_MS = Number(env.DEADLINE_S || 60) * 1000;
const DUP = env.EXPECT_DUPLICATES === '1';

let step = 'start';
function fail(msg) {
  console.error(`FAIL [${step}]: ${msg}`);
  process.exit(1);
}
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn) {
  const end = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timeout waiting for ${what}`);
    await sleep(100);
  }
}
async function raw(method, path, body, headers) {
  const res = await fetch(path.startsWith('http') ? path : NS_URL + path, {
    method, headers: { 'content-type': 'application/json', ...(headers || {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch (e) { json = text; }
  return { status: res.status, body: json };
}
const fault = (f) => raw('POST', `${ADMIN}/__double/faults`, f);
const clearFaults = () => raw('DELETE', `${ADMIN}/__double/faults`);

// expectations, accumulated as the check goes
const bal = { [A]: 0n, [B]: 0n, [ORG]: 0n };
let transferLogs = 0;
const confirmedLocalIds = new Set();
function applied(type, from, to, amount) {
  if (type !== 'mint') bal[from] -= BigInt(amount);
  if (type !== 'burn') bal[to] += BigInt(amount);
  transferLogs++;
}

async function waitOp(ff, txId, want) {
  return until(`operation of tx ${txId} -> ${want}`, async () => {
    const ops = await ff.getOperations({ tx: txId });
    const tokOps = ops.filter((o) => o.type === 'token_transfer' && !o.retry);
    if (tokOps.length && tokOps.every((o) => o.status === want)) return tokOps[0];
    if (want === 'Succeeded' && tokOps.some((o) => o.status === 'Failed')) fail(`tx ${txId} failed: ${tokOps[0].error}`);
    return null;
  });
}

async function confirmedTransfer(ff, txId) {
  const tt = await until(`confirmed transfer of tx ${txId}`, async () => {
    const l = await ff.getTokenTransfers({ 'tx.id': txId });
    return l.length ? l : null;
  });
  check(tt.length === 1, `tx ${txId} has ${tt.length} transfers`);
  check(/^\d{12}\/\d{6}\/\d{6}$/.test(tt[0].protocolId), `protocolId ${tt[0].protocolId}`);
  confirmedLocalIds.add(tt[0].localId);
  return tt[0];
}

async function expectIdem409(ff, fn, key, txId) {
  try {
    await fn();
  } catch (e) {
    check(e instanceof FireFlyIdempotencyError, `replay of ${key}: ${e.constructor.name}: ${e.message}`);
    check(e.message === `FF10431: Idempotency key '${key}' already used for transaction '${txId}'`, `409 text: ${e.message}`);
    return;
  }
  fail(`replay of ${key} was accepted`);
}

async function expectError(fn, re) {
  try {
    await fn();
  } catch (e) {
    check(re.test(e.message), `error '${e.message}' does not match ${re}`);
    return e;
  }
  return fail(`no error (wanted ${re})`);
}

async function txOfKey(ff, key) {
  const l = await ff.getTransactions({ idempotencykey: key });
  check(l.length === 1, `transactions with key ${key}: ${l.length}`);
  return l[0];
}

async function main() {
  const ff = new FireFly({ host: FF_URL, namespace: 'default' });

  step = 'status';
  const st = await ff.getStatus();
  check(st.org && st.org.verifiers.some((v) => v.value === ORG), 'status does not list ORG as a verifier');

  step = 'pool';
  const pool = await ff.createTokenPool({ name: 'eur', type: 'fungible', config: { address: env.POOL_ADDRESS } }, { confirm: true });
  check(pool.active === true && pool.decimals === 6 && pool.type === 'fungible', `pool ${JSON.stringify(pool)}`);
  check((await ff.getTokenPool('eur')).id === pool.id, 'getTokenPool by name');
  const dupPool = await raw('POST', '/tokens/pools', { name: 'eur', type: 'fungible', config: { address: env.POOL_ADDRESS } });
  check(dupPool.status === 409, `duplicate pool -> ${dupPool.status}`);

  step = 'subscriptions';
  await ff.replaceSubscription({
    name: 'check', transport: 'websockets',
    filter: { events: '^token_transfer_(confirmed|op_failed)$' }, options: { firstEvent: 'oldest' },
  });
  const wsEvents = [];
  const socket = ff.listen('check', async (_sock, ev) => { wsEvents.push(ev); });
  // webhook: its first answer is a 500, so FireFly's retry (enabled) must deliver it again
  const hookEvents = [];
  let hookCalls = 0;
  const hook = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => { b += c; });
    req.on('end', () => {
      hookCalls++;
      if (hookCalls === 1) { res.writeHead(500); res.end(); return; }
      hookEvents.push(JSON.parse(b));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  await ff.replaceSubscription({
    name: 'hook', transport: 'webhooks', filter: { events: '^token_transfer_confirmed$' },
    options: { firstEvent: 'oldest', withData: false, url: `http://127.0.0.1:${hook.address().port}/ff`, retry: { enabled: true, count: 3, initialDelay: '50ms' } },
  });

  step = 'mint x3';
  const pays = [['pay-001', 1000000n], ['pay-002', 2500000n], ['pay-003', 10n]];
  const mintTx = {};
  for (const [key, amount] of pays) {
    const r = await ff.mintTokens({ pool: 'eur', to: A, amount: amount.toString(), idempotencyKey: key });
    check(r.type === 'mint' && r.amount === amount.toString() && r.pool === pool.id && r.tx && r.tx.type === 'token_transfer', `mint answer ${JSON.stringify(r)}`);
    check(r.key === ORG && r.from === ORG && r.to === A, `mint defaults key/from ${JSON.stringify(r)}`);
    mintTx[key] = r.tx.id;
  }
  for (const [key, amount] of pays) {
    await waitOp(ff, mintTx[key], 'Succeeded');
    const tx = await ff.getTransaction(mintTx[key]);
    check(tx.idempotencyKey === key && tx.blockchainIds.length === 1, `transaction ${JSON.stringify(tx)}`);
    const tt = await confirmedTransfer(ff, mintTx[key]);
    check(tt.amount === amount.toString() && tt.to === A, `transfer record ${JSON.stringify(tt)}`);
    const byId = await ff.getTokenTransfer(tt.localId);
    check(byId && byId.localId === tt.localId, 'getTokenTransfer by localId');
    applied('mint', null, A, amount);
  }
  const status = await raw('GET', `/transactions/${mintTx['pay-001']}/status`);
  check(status.status === 200 && status.body.status === 'Succeeded' &&
    ['Operation', 'BlockchainEvent', 'TokenTransfer'].every((t) => status.body.details.some((d) => d.type === t && d.status === 'Succeeded')),
  `transaction status ${JSON.stringify(status.body)}`);
  const async202 = await raw('POST', '/tokens/mint', { pool: 'eur', to: A, amount: '0' });
  check(async202.status === 202, `async mint -> ${async202.status}`);
  await waitOp(ff, async202.body.tx.id, 'Succeeded');
  await confirmedTransfer(ff, async202.body.tx.id);
  applied('mint', null, A, 0n);

  step = 'replay -> 409';
  await expectIdem409(ff, () => ff.mintTokens({ pool: 'eur', to: A, amount: '1000000', idempotencyKey: 'pay-001' }), 'pay-001', mintTx['pay-001']);
  const raw409 = await raw('POST', '/tokens/mint', { pool: 'eur', to: A, amount: '1', idempotencyKey: 'pay-002' });
  check(raw409.status === 409 && raw409.body.error.startsWith('FF10431'), `raw replay -> ${raw409.status}`);

  step = 'transfer (custodial key A, confirm)';
  const tr = await ff.transferTokens({ pool: 'eur', from: A, to: B, key: A, amount: '500000', idempotencyKey: 'pay-004' }, { confirm: true });
  check(tr.type === 'transfer' && tr.protocolId && tr.blockchainEvent && tr.from === A && tr.to === B, `confirmed transfer ${JSON.stringify(tr)}`);
  confirmedLocalIds.add(tr.localId);
  applied('transfer', A, B, 500000n);
  const be = await ff.getBlockchainEvent(tr.blockchainEvent);
  check(be && be.name === 'Transfer' && be.output.value === '500000', `blockchain event ${JSON.stringify(be)}`);

  step = 'burn (allowance, confirm)';
  const provider = new ethers.JsonRpcProvider(env.RPC_URL, undefined, { staticNetwork: true });
  const bw = new ethers.Wallet(env.B_KEY, provider);
  const tok = new ethers.Contract(env.POOL_ADDRESS, ['function approve(address,uint256) returns (bool)'], bw);
  await (await tok.approve(ORG, 200000n)).wait();
  const bu = await ff.burnTokens({ pool: 'eur', from: B, amount: '200000', idempotencyKey: 'pay-005' }, { confirm: true });
  check(bu.type === 'burn' && bu.protocolId && bu.from === B, `confirmed burn ${JSON.stringify(bu)}`);
  confirmedLocalIds.add(bu.localId);
  applied('burn', B, null, 200000n);

  step = 'request errors';
  const ct = await raw('POST', '/tokens/mint', 'amount=1', { 'content-type': 'text/plain' });
  check(ct.status === 415 && /^FF00162/.test(ct.body.error), `415 ${JSON.stringify(ct)}`);
  const np = await raw('POST', '/tokens/mint', { pool: 'nope', amount: '1' });
  check(np.status === 404, `unknown pool -> ${np.status}`);
  const self = await raw('POST', '/tokens/transfers', { pool: 'eur', from: A, to: A, key: A, amount: '1' });
  check(self.status === 400 && /^FF10280/.test(self.body.error), `self transfer ${JSON.stringify(self)}`);
  const badAmt = await raw('POST', '/tokens/mint', { pool: 'eur', amount: '1.5' });
  check(badAmt.status === 400, `decimal amount -> ${badAmt.status}`);
  const nsx = await raw('GET', `${FF_URL}/api/v1/namespaces/other/operations`);
  check(nsx.status === 404, `unknown namespace -> ${nsx.status}`);
  check((await ff.getOperation('00000000-0000-4000-8000-000000000000')) === undefined, 'unknown operation is not 404');

  step = 'connector 500 once, then resubmit on replay';
  check((await fault({ status: 500, count: 1 })).status === 200, 'fault api');
  await expectError(() => ff.mintTokens({ pool: 'eur', to: A, amount: '100', idempotencyKey: 'pay-006' }), /^FF10274: Error from tokens service/);
  const t6 = await txOfKey(ff, 'pay-006');
  check((await ff.getOperations({ tx: t6.id }))[0].status === 'Initialized', 'op after a connector failure with a key is Initialized');
  const r6 = await ff.mintTokens({ pool: 'eur', to: A, amount: '100', idempotencyKey: 'pay-006' });
  check(r6.tx.id === t6.id, `resubmit answered tx ${r6.tx.id}, not ${t6.id}`);
  await waitOp(ff, t6.id, 'Succeeded');
  await confirmedTransfer(ff, t6.id);
  applied('mint', null, A, 100n);

  step = 'stuck key: 500 forever, never 409';
  await fault({ status: 500, key: 'pay-007' });
  for (let i = 0; i < 3; i++) {
    await expectError(() => ff.mintTokens({ pool: 'eur', to: A, amount: '200', idempotencyKey: 'pay-007' }), /^FF10274/);
  }
  const t7 = await txOfKey(ff, 'pay-007');
  check((await ff.getOperations({ tx: t7.id })).length === 1, 'stuck key made more than one operation');
  await clearFaults();
  const r7 = await ff.mintTokens({ pool: 'eur', to: A, amount: '200', idempotencyKey: 'pay-007' });
  check(r7.tx.id === t7.id, 'stuck key recovered on another tx');
  await waitOp(ff, t7.id, 'Succeeded');
  await confirmedTransfer(ff, t7.id);
  applied('mint', null, A, 200n);

  step = 'response lost after submission -> 409 on replay';
  await fault({ drop: 'after_submit' });
  await expectError(() => ff.mintTokens({ pool: 'eur', to: A, amount: '1000', idempotencyKey: 'pay-008' }), /socket hang up|ECONNRESET|network/i);
  const t8 = await txOfKey(ff, 'pay-008');
  await expectIdem409(ff, () => ff.mintTokens({ pool: 'eur', to: A, amount: '1000', idempotencyKey: 'pay-008' }), 'pay-008', t8.id);
  await waitOp(ff, t8.id, 'Succeeded');
  await confirmedTransfer(ff, t8.id);
  applied('mint', null, A, 1000n);

  step = 'crash before the operation -> replay restarts on the same tx';
  await fault({ drop: 'after_tx' });
  await expectError(() => ff.mintTokens({ pool: 'eur', to: A, amount: '1', idempotencyKey: 'pay-009' }), /socket hang up|ECONNRESET|network/i);
  const t9 = await txOfKey(ff, 'pay-009');
  check((await ff.getOperations({ tx: t9.id })).length === 0, 'crash left an operation');
  const r9 = await raw('POST', '/tokens/mint', { pool: 'eur', to: A, amount: '1', idempotencyKey: 'pay-009' });
  check(r9.status === 202 && r9.body.tx.id === t9.id, `replay after crash ${JSON.stringify(r9)}`);
  await waitOp(ff, t9.id, 'Succeeded');
  await confirmedTransfer(ff, t9.id);
  applied('mint', null, A, 1n);

  step = 'confirm=true past Request-Timeout -> 408, transfer goes on';
  await fault({ hold: true });
  const r10 = await raw('POST', '/tokens/mint?confirm=true', { pool: 'eur', to: A, amount: '7', idempotencyKey: 'pay-010' }, { 'Request-Timeout': '1s' });
  check(r10.status === 408 && /^FF10260: The request with id '[0-9a-f-]{36}' timed out after/.test(r10.body.error), `408 ${JSON.stringify(r10)}`);
  const t10 = await txOfKey(ff, 'pay-010');
  check((await ff.getOperations({ tx: t10.id }))[0].status === 'Pending', 'held op is not Pending');
  await fault({ hold: false });
  await waitOp(ff, t10.id, 'Succeeded');
  await confirmedTransfer(ff, t10.id);
  applied('mint', null, A, 7n);

  step = 'revert at submission -> 500, op Failed, op_failed event';
  const e11 = await expectError(() => ff.burnTokens({ pool: 'eur', from: B, amount: '1000000000000', idempotencyKey: 'pay-011' }), /^FF10274: .*ERC20InsufficientAllowance/);
  check(e11 instanceof FireFlyError, 'revert is not a FireFlyError');
  const t11 = await txOfKey(ff, 'pay-011');
  await waitOp(ff, t11.id, 'Failed');
  await expectIdem409(ff, () => ff.burnTokens({ pool: 'eur', from: B, amount: '1000000000000', idempotencyKey: 'pay-011' }), 'pay-011', t11.id);

  step = 'failure after submission -> op Failed; /operations/{id}/retry succeeds';
  await fault({ fail: 'receipt' });
  const r12 = await ff.mintTokens({ pool: 'eur', to: A, amount: '30', idempotencyKey: 'pay-012' });
  const op12 = await waitOp(ff, r12.tx.id, 'Failed');
  const ts12 = await raw('GET', `/transactions/${r12.tx.id}/status`);
  check(ts12.body.status === 'Failed', `failed tx status ${JSON.stringify(ts12.body)}`);
  const retried = await ff.retryOperation(op12.id);
  check(retried.id !== op12.id && retried.tx === r12.tx.id, 'retry made no new operation');
  await until('retried op Succeeded', async () => (await ff.getOperation(retried.id)).status === 'Succeeded');
  check((await ff.getOperation(op12.id)).retry === retried.id, 'old op does not point to its retry');
  await confirmedTransfer(ff, r12.tx.id);
  applied('mint', null, A, 30n);

  step = 'API down -> connection refused; up again';
  await fault({ down: true });
  await expectError(() => ff.getStatus(), /ECONNREFUSED|ECONNRESET|socket hang up/);
  await fault({ down: false });
  await until('API back', async () => { try { await ff.getStatus(); return true; } catch (e) { return false; } });

  step = 'events (at-least-once)';
  const nConfirmed = confirmedLocalIds.size;
  const countIds = (list, type) => {
    const m = new Map();
    for (const e of list) if (e.type === type) m.set(e.id, (m.get(e.id) || 0) + 1);
    return m;
  };
  const per = DUP ? 2 : 1;
  await until(`${nConfirmed} confirmed events x${per} on the websocket`, async () => {
    const m = countIds(wsEvents, 'token_transfer_confirmed');
    return m.size === nConfirmed && [...m.values()].every((n) => n === per);
  });
  const refs = new Set(wsEvents.filter((e) => e.type === 'token_transfer_confirmed').map((e) => e.reference));
  check([...confirmedLocalIds].every((id) => refs.has(id)), 'a confirmed transfer has no event');
  check(wsEvents.filter((e) => e.type === 'token_transfer_confirmed').every((e) => e.tokenTransfer && e.tokenTransfer.localId === e.reference && e.subscription.name === 'check'), 'event enrichment');
  const failedOps = countIds(wsEvents, 'token_transfer_op_failed');
  check(failedOps.size === 2, `op_failed events: ${failedOps.size} (want 2)`);
  const seqs = wsEvents.map((e) => e.sequence);
  check(seqs.every((s, i) => i === 0 || s >= seqs[i - 1]), 'websocket events out of order');
  await until(`${nConfirmed} confirmed events x${per} on the webhook`, async () => {
    const m = countIds(hookEvents, 'token_transfer_confirmed');
    return m.size === nConfirmed && [...m.values()].every((n) => n === per);
  });
  check(hookCalls === nConfirmed * per + 1, `webhook calls ${hookCalls} (one refused, retried)`);
  socket.close();
  hook.close();

  const summary = {
    A: bal[A].toString(), B: bal[B].toString(), ORG: bal[ORG].toString(),
    supply: (bal[A] + bal[B] + bal[ORG]).toString(), transferLogs, confirmed: nConfirmed,
    wsEvents: wsEvents.length, webhookCalls: hookCalls,
  };
  console.log(JSON.stringify(summary));
  provider.destroy();
  process.exit(0);
}

main().catch((e) => fail(e.stack || e.message || String(e)));
