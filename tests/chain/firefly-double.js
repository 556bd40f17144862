#!/usr/bin/env node
// A test double of Hyperledger FireFly v1.3's tokens API (what the Financial Tokenization service's
// FireFly backend talks to), speaking FireFly's wire format closely enough that the published
// @hyperledger/firefly-sdk client works against it unchanged. The token effect is real: the double
// holds signing keys (FireFly's org/custodial keys), calls the pool's ERC-20 on the chain at RPC_URL
// with ethers, and confirms a transfer only on a receipt with status 1 and the matching Transfer log.
// State lives in memory (a restart forgets everything, as a FireFly with a wiped database would).
// It writes nothing but JSON log lines (stderr); SIGTERM/SIGINT stop it (exit 0).
// What it implements, what it does not and how real FireFly differs: README.md beside this file.
//
//   node firefly-double.js        (configuration from the environment)
// Env:
//   FF_DOUBLE_PORT (5000)            API (+ /ws, + /__double admin) on FF_DOUBLE_HOST (127.0.0.1)
//   FF_DOUBLE_ADMIN_PORT (none)      second listener for /__double only: it stays up while the API is
//                                    "down" (without it, "down" resets API connections instead)
//   RPC_URL (http://127.0.0.1:8545)  the chain
//   FF_DOUBLE_KEYS                   comma list of private keys FireFly may sign with; the first is the
//                                    default `key` (default: anvil's public dev key #0)
//   FF_DOUBLE_NAMESPACE (default)    the one namespace served
//   FF_DOUBLE_POOLS                  pools present at start: name=0xADDRESS[,name=0xADDRESS...]
//   FF_DOUBLE_CONFIRMATIONS (1)      blocks a receipt needs (1 = its own block)
//   FF_DOUBLE_DUPLICATE_EVENTS (0)   1: deliver every event twice (same id), on purpose
//   FF_DOUBLE_POLL_MS (100)          receipt polling interval
//   FF_DOUBLE_REQUEST_TIMEOUT (120s) default Request-Timeout of confirm=true calls (FireFly: 2m; max 10m)
//   FF_DOUBLE_LOG_LEVEL (info)       debug|info|warn|error
'use strict';
const http = require('http');
const crypto = require('crypto');
const { ethers } = require('ethers');
const { WebSocketServer } = require('ws');

// ---------------------------------------------------------------------------------------------
// configuration and logging

const DEV_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'; // anvil public dev key #0
const env = process.env;
const CFG = {
  host: env.FF_DOUBLE_HOST || '127.0.0.1',
  port: intEnv('FF_DOUBLE_PORT', 5000),
  adminPort: env.FF_DOUBLE_ADMIN_PORT ? intEnv('FF_DOUBLE_ADMIN_PORT', 0) : null,
  rpcUrl: env.RPC_URL || 'http://127.0.0.1:8545',
  namespace: env.FF_DOUBLE_NAMESPACE || 'default',
  confirmations: intEnv('FF_DOUBLE_CONFIRMATIONS', 1),
  duplicateEvents: env.FF_DOUBLE_DUPLICATE_EVENTS === '1' || env.FF_DOUBLE_DUPLICATE_EVENTS === 'true',
  pollMs: intEnv('FF_DOUBLE_POLL_MS', 100),
  requestTimeoutMs: durationMs(env.FF_DOUBLE_REQUEST_TIMEOUT || '120s', 1000),
  maxTimeoutMs: 600000,
  connector: 'erc20_erc721',
  logLevel: env.FF_DOUBLE_LOG_LEVEL || 'info',
};
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

function intEnv(name, def) {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v)) fatal(`${name}: not a non-negative integer: ${v}`);
  return Number(v);
}

// FireFly's duration strings (fftypes.ParseDurationString): a bare number is in `unit` ms.
function durationMs(s, unit) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(s));
  if (!m) return null;
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2]] || unit;
  return Math.round(n * mult);
}

function log(level, msg, fields) {
  if (LEVELS[level] < (LEVELS[CFG.logLevel] || 20)) return;
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + '\n');
}
function fatal(msg) {
  log('error', msg);
  process.exit(78);
}

const uuid = () => crypto.randomUUID();
const now = () => new Date().toISOString();
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ADDR_RE = /^0x[0-9a-fA-F]{40}$/;
const ZERO = '0x0000000000000000000000000000000000000000';

// ---------------------------------------------------------------------------------------------
// FireFly errors: {"error":"FFxxxxx: text"} with the code's status hint (ffapi.APIWrapper)

class FFError extends Error {
  constructor(status, code, text) {
    super(code ? `${code}: ${text}` : text);
    this.status = status;
  }
}
const E = {
  notFound: () => new FFError(404, 'FF00167', 'Not found'),
  noResult: () => new FFError(404, 'FF00164', 'No result found'),
  contentType: () => new FFError(415, 'FF00162', 'Invalid content type'),
  badUUID: () => new FFError(400, 'FF00138', 'Invalid UUID supplied'),
  unknownNS: (ns) => new FFError(404, 'FF10436', `Unknown namespace '${ns}'`),
  poolNotFound: () => new FFError(404, 'FF10109', 'Not found'),
  fieldMissing: (f) => new FFError(400, 'FF10292', `Field '${f}' must be specified`),
  badAddress: () => new FFError(400, 'FF10141', 'Supplied ethereum address is invalid'),
  selfTransfer: () => new FFError(400, 'FF10280', 'From and to addresses must be different'),
  idempotency: (key, tx) => new FFError(409, 'FF10431', `Idempotency key '${key}' already used for transaction '${tx}'`),
  tokens: (text, status) => new FFError(status || 500, 'FF10274', `Error from tokens service: ${text}`),
  timeout: (id, ms) => new FFError(408, 'FF10260', `The request with id '${id}' timed out after ${ms.toFixed(2)}ms`),
  transferFailed: (id) => new FFError(500, 'FF10291', `Token transfer with ID '${id}' failed. Please check the FireFly logs for more information`),
  poolDup: (name) => new FFError(409, 'FF10275', `Duplicate token pool: ${name}`),
  subDup: (ns, name) => new FFError(409, 'FF10193', `A subscription with name '${ns}:${name}' already exists`),
  badRequest: (text) => new FFError(400, null, text),
};

// ---------------------------------------------------------------------------------------------
// chain access: one signer per key, submissions serialized per key with a local nonce

const provider = new ethers.JsonRpcProvider(CFG.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
provider.pollingInterval = CFG.pollMs;
const signers = new Map(); // lowercased address -> { wallet, nonce, chain (promise tail) }
let defaultKey;
for (const k of (env.FF_DOUBLE_KEYS || DEV_KEY0).split(',').map((s) => s.trim()).filter(Boolean)) {
  let w;
  try { w = new ethers.Wallet(k, provider); } catch (e) { fatal('FF_DOUBLE_KEYS: not a valid private key (value not shown)'); }
  signers.set(w.address.toLowerCase(), { wallet: w, nonce: null, tail: Promise.resolve() });
  if (!defaultKey) defaultKey = w.address;
}

const ERC20_ABI = [
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
  'function name() view returns (string)',
  'function balanceOf(address) view returns (uint256)',
  'function mint(address to, uint256 amount)',
  'function mintWithData(address to, uint256 amount, bytes data)',
  'function burn(address from, uint256 amount)',
  'function burnWithData(address from, uint256 amount, bytes data)',
  'function transferFrom(address from, address to, uint256 amount) returns (bool)',
  'function transferWithData(address from, address to, uint256 amount, bytes data)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  // errors our PaymentToken and OpenZeppelin 5 raise, so reverts read as names
  'error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error ERC20InvalidReceiver(address receiver)',
  'error ERC20InvalidSender(address sender)',
];
const IFACE = new ethers.Interface(ERC20_ABI);
const TRANSFER_TOPIC = IFACE.getEvent('Transfer').topicHash;

// The connector's method choice (firefly-tokens-erc20-erc721 supportedmethods.ts, ERC-20): the
// *WithData variant when the contract has it, else the plain one. Without the pool's ABI, the
// double looks for the selector behind a PUSH4 in the deployed code.
function pickMethods(code) {
  const has = (sig) => code.includes('63' + IFACE.getFunction(sig).selector.slice(2));
  return {
    mint: has('mintWithData') ? 'mintWithData' : 'mint',
    burn: has('burnWithData') ? 'burnWithData' : 'burn',
    transfer: has('transferWithData') ? 'transferWithData' : 'transferFrom',
  };
}

function callArgs(method, t) {
  switch (method) {
    case 'mint': return [t.to, BigInt(t.amount)];
    case 'mintWithData': return [t.to, BigInt(t.amount), '0x'];
    case 'burn': return [t.from, BigInt(t.amount)];
    case 'burnWithData': return [t.from, BigInt(t.amount), '0x'];
    case 'transferFrom': return [t.from, t.to, BigInt(t.amount)];
    case 'transferWithData': return [t.from, t.to, BigInt(t.amount), '0x'];
    default: throw new Error(`unknown method ${method}`);
  }
}

function revertText(e) {
  const data = e && (e.data || (e.info && e.info.error && e.info.error.data) || (e.error && e.error.data));
  if (typeof data === 'string' && data.length >= 10) {
    try {
      const d = IFACE.parseError(data);
      if (d) return `FF23021: EVM reverted: ${d.name}(${d.args.map(String).join(', ')})`;
    } catch (_) { /* not one of ours */ }
    if (e.reason) return `FF23021: EVM reverted: ${e.reason}`;
    return `FF23021: EVM reverted: ${data}`;
  }
  return (e && (e.shortMessage || e.message)) || String(e);
}

// Runs fn in the key's queue: estimate + sign + send never interleave for one key, so nonces stay
// dense. Returns fn's result.
function withKey(addr, fn) {
  const s = signers.get(addr.toLowerCase());
  const run = s.tail.then(() => fn(s));
  s.tail = run.catch(() => {});
  return run;
}

// estimate (a revert here fails the operation before anything is sent), then send
async function sendTokenTx(pool, t) {
  const s = signers.get(t.key.toLowerCase());
  if (!s) throw Object.assign(new Error(`FF10354: No signing key '${t.key}' available to this node`), { phase: 'complete' });
  const method = pool.methods[t.type];
  const data = IFACE.encodeFunctionData(method, callArgs(method, t));
  return withKey(t.key, async (st) => {
    let gas;
    try {
      gas = await provider.estimateGas({ from: st.wallet.address, to: pool.config.address, data });
    } catch (e) {
      throw Object.assign(new Error(revertText(e)), { phase: 'complete' });
    }
    if (st.nonce === null) st.nonce = await provider.getTransactionCount(st.wallet.address, 'pending');
    try {
      const tx = await st.wallet.sendTransaction({
        to: pool.config.address, data, nonce: st.nonce, gasLimit: (gas * 12n) / 10n + 10000n,
      });
      st.nonce++;
      return tx.hash;
    } catch (e) {
      st.nonce = null; // re-read from the chain next time
      throw Object.assign(new Error(revertText(e)), { phase: 'initializing' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// state

const S = {
  pools: new Map(), // id -> pool
  txs: new Map(), // id -> transaction
  idem: new Map(), // idempotencyKey -> tx id
  ops: new Map(), // id -> operation
  transfers: new Map(), // localId -> confirmed TokenTransfer
  bevents: new Map(), // id -> BlockchainEvent
  events: [], // Event, sequence = index + 1
  subs: new Map(), // id -> subscription (+ delivery state)
  meta: new Map(), // op id -> { pool, chainFrom, chainTo, idem }: what the wire objects do not carry
  watching: new Map(), // op id -> { hash, pool, t, op }
  waiters: new Map(), // localId -> [resolve]
  chainTxs: 0,
};
const FAULTS = {
  down: false, downUntil: 0, hold: false, duplicateEvents: CFG.duplicateEvents,
  list: [], // { kind: 'status'|'drop'|'fail', stage, status, key, count, drop }
};
const held = []; // submissions waiting while hold is on

function ensureNS(ns) {
  if (ns !== CFG.namespace) throw E.unknownNS(ns);
}

// faults that match this request, counted down (count -1 = forever)
function takeFault(pred) {
  for (const f of FAULTS.list) {
    if (!pred(f)) continue;
    if (f.count === 0) continue;
    if (f.count > 0) f.count--;
    return f;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// events and subscriptions

function emitEvent(type, fields, enrich) {
  const ev = {
    id: uuid(), sequence: S.events.length + 1, type, namespace: CFG.namespace,
    reference: fields.reference, correlator: fields.correlator, tx: fields.tx, topic: fields.topic, created: now(),
  };
  if (!ev.correlator) delete ev.correlator;
  S.events.push({ ev, enrich });
  log('info', 'event', { type, id: ev.id, sequence: ev.sequence, reference: ev.reference, tx: ev.tx });
  for (const sub of S.subs.values()) kickSub(sub);
}

function eventDelivery(rec, sub) {
  return { ...rec.ev, ...rec.enrich(), subscription: { id: sub.id, namespace: sub.namespace, name: sub.name } };
}

function matches(sub, rec) {
  const f = sub.filter || {};
  try {
    if (f.events && !new RegExp(f.events).test(rec.ev.type)) return false;
    const topic = f.topic || f.topics;
    if (topic && !new RegExp(topic).test(rec.ev.topic || '')) return false;
  } catch (e) {
    return false;
  }
  return true;
}

function firstOffset(opt) {
  const fe = opt && opt.firstEvent;
  if (fe === undefined || fe === '' || fe === 'newest') return S.events.length;
  if (fe === 'oldest') return 0;
  if (/^\d+$/.test(String(fe))) return Math.max(0, Number(fe) - 1);
  throw new FFError(400, 'FF10191', "Invalid firstEvent definition - must be 'newest','oldest' or a sequence number");
}

function newSub(ns, body, ephemeral) {
  const transport = body.transport || 'websockets';
  if (transport !== 'websockets' && transport !== 'webhooks') {
    throw new FFError(400, 'FF10172', `Unknown event transport plugin: ${transport}`);
  }
  const options = body.options || {};
  if (transport === 'webhooks' && !options.url) throw new FFError(400, 'FF10242', "Webhook subscription option 'url' cannot be empty");
  if (!ephemeral && !body.name) throw E.fieldMissing('name');
  const sub = {
    id: uuid(), namespace: ns, name: body.name || `ephemeral-${uuid()}`, transport,
    filter: body.filter || {}, options, created: now(), ephemeral: !!ephemeral,
    // delivery state (not part of the wire object)
    _offset: firstOffset(options), _conn: null, _inflight: [], _cursor: null, _busy: false,
  };
  return sub;
}

function subView(sub) {
  const { _offset, _conn, _inflight, _cursor, _busy, ephemeral, ...w } = sub;
  return w;
}

// WebSocket connections (FireFly's protocol: start / ack / protocol_error)
function wsConnection(sock, req) {
  const conn = { sock, autoAck: null, started: [], closed: false };
  const send = (obj) => { if (!conn.closed) sock.send(JSON.stringify(obj)); };
  conn.send = send;
  const protocolError = (text) => {
    send({ type: 'protocol_error', error: text });
    log('warn', 'ws protocol error', { error: text });
  };
  const start = (msg) => {
    if (msg.autoack !== undefined && msg.autoack !== null) {
      if (conn.autoAck !== null && conn.started.length && conn.autoAck !== !!msg.autoack) {
        throw new Error('FF10179: The autoack option must be set consistently on all start requests');
      }
      conn.autoAck = !!msg.autoack;
    }
    if (!msg.namespace || (!msg.name && !msg.ephemeral)) {
      throw new Error('FF10178: A start action must set namespace and either a name or ephemeral=true');
    }
    if (msg.namespace !== CFG.namespace) throw new Error(`FF10436: Unknown namespace '${msg.namespace}'`);
    let sub;
    if (msg.ephemeral) {
      sub = newSub(msg.namespace, { transport: 'websockets', filter: msg.filter || {}, options: {} }, true);
      S.subs.set(sub.id, sub);
    } else {
      sub = [...S.subs.values()].find((s) => !s.ephemeral && s.namespace === msg.namespace && s.name === msg.name);
      if (!sub) {
        // FireFly creates nothing here either: a durable subscription is made with POST/PUT /subscriptions
        throw new Error(`FF10189: Invalid subscription: no subscription '${msg.namespace}:${msg.name}'`);
      }
      if (sub.transport !== 'websockets') throw new Error(`FF10190: subscription '${msg.name}' is not a websockets subscription`);
    }
    if (sub._conn && sub._conn !== conn && !sub._conn.closed) {
      // FireFly spreads a durable subscription over its connections; the double keeps one: the newest
      releaseSub(sub);
    }
    sub._conn = conn;
    sub._cursor = sub._offset;
    sub._inflight = [];
    conn.started.push(sub);
    log('info', 'ws start', { subscription: sub.name, ephemeral: !!msg.ephemeral, from: sub._offset + 1 });
    kickSub(sub);
  };
  const ack = (msg) => {
    if (conn.autoAck) throw new Error('FF10180: The autoack option is enabled on this connection');
    let found = null;
    for (const sub of conn.started) {
      const i = sub._inflight.findIndex((x) => (msg.id ? x.id === msg.id : true) &&
        (!msg.subscription || msg.subscription.id === sub.id ||
          (msg.subscription.name === sub.name && msg.subscription.namespace === sub.namespace)));
      if (i >= 0) {
        if (!msg.subscription && conn.started.length !== 1) break;
        found = { sub, item: sub._inflight.splice(i, 1)[0] };
        break;
      }
    }
    if (!found) throw new Error('FF10175: Acknowledgment does not match an inflight event + subscription');
    acked(found.sub, found.item);
  };
  sock.on('message', (data) => {
    let msg;
    try { msg = JSON.parse(String(data)); } catch (e) {
      protocolError(`FF10176: Invalid data: ${e.message}`);
      return sock.close();
    }
    try {
      if (msg.type === 'start') start(msg);
      else if (msg.type === 'ack') ack(msg);
      else throw new Error(`FF10177: Unknown action '${msg.type}'`);
    } catch (e) {
      protocolError(`FF10176: Invalid data: ${e.message}`);
      sock.close();
    }
  });
  sock.on('close', () => {
    conn.closed = true;
    for (const sub of conn.started) {
      if (sub._conn === conn) releaseSub(sub);
      if (sub.ephemeral) S.subs.delete(sub.id);
    }
  });
  sock.on('error', () => {});
  // auto-start from the query (FireFly's processAutoStart)
  const q = new URL(req.url, 'http://x').searchParams;
  if (q.has('ephemeral') || q.has('name')) {
    try {
      start({
        type: 'start', namespace: q.get('namespace'), name: q.get('name'),
        ephemeral: q.has('ephemeral') && q.get('ephemeral') !== 'false',
        autoack: q.has('autoack') && q.get('autoack') !== 'false',
        filter: { events: q.get('filter.events') || undefined, topic: q.get('filter.topic') || q.get('filter.topics') || undefined },
      });
    } catch (e) {
      protocolError(`FF10176: Invalid data: ${e.message}`);
    }
  }
}

// a connection went away: what it had in flight is delivered again to the next one (at-least-once)
function releaseSub(sub) {
  sub._conn = null;
  sub._inflight = [];
  sub._cursor = sub._offset;
}

function maxInflight(sub) {
  const ra = Number(sub.options.readAhead || 0);
  return ra > 0 ? ra : 1;
}

// the durable offset only moves over events fully acknowledged (and, in duplicate mode, sent twice)
function acked(sub, item) {
  if (FAULTS.duplicateEvents && !item.dup) {
    deliverWs(sub, item.rec, true);
    return;
  }
  const pendingSeqs = sub._inflight.map((x) => x.seq);
  sub._offset = pendingSeqs.length ? Math.min(...pendingSeqs) - 1 : Math.max(sub._offset, sub._cursor);
  kickSub(sub);
}

function deliverWs(sub, rec, dup) {
  const conn = sub._conn;
  const item = { id: rec.ev.id, seq: rec.ev.sequence, rec, dup };
  sub._inflight.push(item);
  conn.send(eventDelivery(rec, sub));
  log('debug', 'ws deliver', { subscription: sub.name, id: item.id, sequence: item.seq, dup: !!dup });
  if (conn.autoAck) {
    sub._inflight.splice(sub._inflight.indexOf(item), 1);
    setImmediate(() => acked(sub, item));
  }
}

function kickSub(sub) {
  if (sub.transport === 'webhooks') return kickWebhook(sub);
  const conn = sub._conn;
  if (!conn || conn.closed) return;
  while (sub._inflight.length < maxInflight(sub) && sub._cursor < S.events.length) {
    const rec = S.events[sub._cursor];
    sub._cursor++;
    if (!matches(sub, rec)) {
      if (!sub._inflight.length) sub._offset = sub._cursor;
      continue;
    }
    deliverWs(sub, rec, false);
  }
}

// webhooks: one event at a time, POSTed as the event itself (no message data for token events);
// options.retry {enabled, count, initialDelay, maxDelay} as FireFly's resty client; acknowledged
// after the attempt whatever the answer (FireFly v1.3 does not redeliver a failed webhook).
async function postWebhook(sub, body) {
  const o = sub.options;
  const retry = o.retry || {};
  const tries = retry.enabled ? 1 + Number(retry.count || 5) : 1;
  let delay = durationMs(retry.initialDelay || '250ms', 1) || 250;
  const maxDelay = durationMs(retry.maxDelay || '30s', 1) || 30000;
  const headers = { 'content-type': 'application/json', ...(o.headers || {}) };
  for (let i = 1; i <= tries; i++) {
    try {
      const u = new URL(o.url);
      for (const [k, v] of Object.entries(o.query || {})) u.searchParams.set(k, v);
      const res = await fetch(u, { method: o.method || 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30000) });
      await res.arrayBuffer();
      log('debug', 'webhook', { subscription: sub.name, status: res.status, attempt: i });
      if (res.ok) return;
    } catch (e) {
      log('warn', 'webhook failed', { subscription: sub.name, error: e.message, attempt: i });
    }
    if (i < tries) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

async function kickWebhook(sub) {
  if (sub._busy) return;
  sub._busy = true;
  try {
    while (S.subs.get(sub.id) === sub && sub._offset < S.events.length) {
      const rec = S.events[sub._offset];
      if (matches(sub, rec)) {
        const body = eventDelivery(rec, sub);
        await postWebhook(sub, body);
        if (FAULTS.duplicateEvents) await postWebhook(sub, body);
      }
      sub._offset++;
    }
  } finally {
    sub._busy = false;
  }
}

// ---------------------------------------------------------------------------------------------
// pools

async function createPool(ns, body, confirm) {
  if (!body || typeof body.name !== 'string' || !body.name) throw E.fieldMissing('name');
  const type = body.type || 'fungible';
  if (type !== 'fungible') throw E.badRequest(`the double supports fungible pools only, not '${type}'`);
  for (const p of S.pools.values()) if (p.name === body.name) throw E.poolDup(body.name);
  const address = body.config && body.config.address;
  if (!address) {
    throw E.badRequest("the double does not deploy tokens (FireFly's token factory): config.address of an existing ERC-20 is required");
  }
  if (!ADDR_RE.test(address)) throw E.badAddress();
  const key = body.key || defaultKey;
  if (body.idempotencyKey && S.idem.has(body.idempotencyKey)) throw E.idempotency(body.idempotencyKey, S.idem.get(body.idempotencyKey));
  let code, decimals, symbol;
  try {
    code = await provider.getCode(address);
    if (code === '0x') throw new Error(`no contract at ${address}`);
    const c = new ethers.Contract(address, ERC20_ABI, provider);
    decimals = Number(await c.decimals());
    symbol = await c.symbol().catch(() => '');
  } catch (e) {
    throw E.tokens(e.shortMessage || e.message);
  }
  const tx = newTx('token_pool', body.idempotencyKey);
  const pool = {
    id: uuid(), type, namespace: ns, name: body.name, networkName: body.networkName || body.name,
    standard: 'ERC20', locator: `address=${address.toLowerCase()}&schema=ERC20WithData&type=fungible`,
    key, symbol: body.symbol || symbol, decimals, connector: CFG.connector, message: null, active: true,
    created: now(), config: { address, blockNumber: (body.config && body.config.blockNumber) || '0' },
    info: { address: address.toLowerCase(), name: body.name, schema: 'ERC20WithData' },
    tx: { type: 'token_pool', id: tx.id }, interfaceFormat: 'abi', published: false,
  };
  Object.defineProperty(pool, 'methods', { value: pickMethods(code.toLowerCase()), enumerable: false });
  for (const t of ['token_create_pool', 'token_activate_pool']) {
    const op = newOp(tx.id, t, { name: pool.name, type, config: pool.config });
    op.status = 'Succeeded';
  }
  S.pools.set(pool.id, pool);
  emitEvent('token_pool_confirmed', { reference: pool.id, tx: tx.id, topic: pool.id }, () => ({ tokenPool: pool }));
  log('info', 'pool', { name: pool.name, address, decimals, methods: pool.methods });
  return { status: confirm ? 200 : 202, body: pool };
}

function findPool(nameOrId) {
  for (const p of S.pools.values()) if (p.id === nameOrId || p.name === nameOrId) return p;
  return null;
}

// ---------------------------------------------------------------------------------------------
// transactions, operations, transfers

function newTx(type, idempotencyKey) {
  const tx = { id: uuid(), namespace: CFG.namespace, type, created: now(), blockchainIds: [] };
  if (idempotencyKey) {
    tx.idempotencyKey = idempotencyKey;
    S.idem.set(idempotencyKey, tx.id);
  }
  S.txs.set(tx.id, tx);
  return tx;
}

function newOp(txId, type, input) {
  const op = {
    id: uuid(), namespace: CFG.namespace, tx: txId, type, status: 'Initialized', plugin: CFG.connector,
    input, created: now(), updated: now(),
  };
  S.ops.set(op.id, op);
  return op;
}

function setOp(op, status, fields) {
  op.status = status;
  op.updated = now();
  Object.assign(op, fields || {});
  log('info', 'operation', { id: op.id, tx: op.tx, status, error: op.error });
}

function opsOfTx(txId) {
  return [...S.ops.values()].filter((o) => o.tx === txId);
}

// the request's TokenTransferInput -> the TokenTransfer FireFly answers with (validateTransfer)
function resolveTransfer(type, body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw E.badRequest('the body must be a JSON object');
  const t = { type, localId: uuid() };
  let amount = body.amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) amount = String(amount);
  if (typeof amount !== 'string' || !/^\d+$/.test(amount)) {
    throw E.badRequest(`FF00105: Failed to parse amount '${body.amount}' as an integer (base units)`);
  }
  t.amount = BigInt(amount).toString();
  let pool;
  if (body.pool) {
    pool = findPool(String(body.pool));
    if (!pool) throw E.poolNotFound();
  } else {
    const all = [...S.pools.values()];
    if (all.length !== 1) throw E.fieldMissing('pool');
    pool = all[0];
  }
  t.pool = pool.id;
  t.connector = pool.connector;
  t.namespace = CFG.namespace;
  t.key = body.key || defaultKey;
  for (const f of ['key', 'from', 'to']) if (body[f] !== undefined && body[f] !== '' && !ADDR_RE.test(body[f])) throw E.badAddress();
  t.key = ethers.getAddress(t.key).toLowerCase();
  t.from = (body.from || t.key).toLowerCase();
  t.to = (body.to || t.key).toLowerCase();
  if (type === 'transfer' && t.from === t.to) throw E.selfTransfer();
  if (body.tokenIndex) t.tokenIndex = String(body.tokenIndex);
  if (body.uri) t.uri = String(body.uri);
  if (body.config) t.config = body.config;
  if (body.message) throw E.badRequest('the double does not attach messages to transfers');
  if (body.idempotencyKey !== undefined && (typeof body.idempotencyKey !== 'string' || body.idempotencyKey.length > 256)) {
    throw E.badRequest('idempotencyKey must be a string of at most 256 characters');
  }
  // the chain effect's from/to as the Transfer log shows them
  t._chainFrom = type === 'mint' ? ZERO : t.from;
  t._chainTo = type === 'burn' ? ZERO : t.to;
  return { t, pool };
}

function wire(t) {
  const o = {};
  for (const [k, v] of Object.entries(t)) if (!k.startsWith('_')) o[k] = v;
  return o;
}

// Submits an operation to the "connector". Faults and reverts before the chain are errors of phase
// 'initializing' (FireFly keeps the op Initialized when an idempotency key was given, else Failed)
// or 'complete' (Failed). Resolves once the transaction is sent (or held).
async function runOp(op, idempotent) {
  const m = S.meta.get(op.id);
  const pool = m.pool;
  const t = { ...op.input, _chainFrom: m.chainFrom, _chainTo: m.chainTo };
  const f = takeFault((x) => x.kind === 'status' && x.stage === 'connector' && (!x.key || x.key === m.idem));
  let err = null;
  if (f) err = Object.assign(new Error(`injected connector failure (${f.status})`), { phase: 'initializing', status: f.status });
  if (!err && FAULTS.hold) {
    setOp(op, 'Pending');
    held.push({ op, pool, t });
    return;
  }
  if (!err) {
    try {
      await submitToChain(op, pool, t);
      return;
    } catch (e) {
      err = e;
    }
  }
  if (err.phase === 'initializing' && idempotent) {
    setOp(op, 'Initialized', { error: err.message });
  } else {
    failOp(op, t, err.message);
  }
  throw E.tokens(err.message, err.status);
}

async function submitToChain(op, pool, t) {
  const fail = takeFault((x) => x.kind === 'fail');
  if (fail) {
    setOp(op, 'Pending');
    setTimeout(() => failOp(op, t, 'FF23021: EVM reverted (injected by the double)'), CFG.pollMs);
    return;
  }
  const hash = await sendTokenTx(pool, t);
  S.chainTxs++;
  const tx = S.txs.get(op.tx);
  if (!tx.blockchainIds.includes(hash)) tx.blockchainIds.push(hash);
  setOp(op, 'Pending', { output: { transactionHash: hash } });
  S.watching.set(op.id, { hash, pool, t, op });
  log('info', 'sent', { op: op.id, tx: op.tx, hash, type: t.type, amount: t.amount });
}

function failOp(op, t, message) {
  setOp(op, 'Failed', { error: message });
  emitEvent('token_transfer_op_failed', { reference: op.id, correlator: t.localId, tx: op.tx, topic: t.pool },
    () => ({ operation: op }));
  wake(t.localId, { failed: true });
}

function wake(localId, result) {
  const ws = S.waiters.get(localId) || [];
  S.waiters.delete(localId);
  for (const w of ws) w(result);
}

const pad = (n, w) => String(n).padStart(w, '0');

// receipts: a confirmed transfer needs status 1, enough blocks and the Transfer log it promised
async function pollReceipts() {
  if (!S.watching.size) return;
  let head;
  try { head = await provider.getBlockNumber(); } catch (e) { return; }
  for (const [opId, w] of [...S.watching]) {
    let r;
    try { r = await provider.getTransactionReceipt(w.hash); } catch (e) { continue; }
    if (!r || head - r.blockNumber + 1 < CFG.confirmations) continue;
    S.watching.delete(opId);
    if (r.status !== 1) {
      failOp(w.op, w.t, `FF23054: Transaction ${w.hash} reverted in block ${r.blockNumber}`);
      continue;
    }
    const log0 = r.logs.find((l) => l.address.toLowerCase() === w.pool.config.address.toLowerCase() &&
      l.topics[0] === TRANSFER_TOPIC &&
      ethers.getAddress('0x' + l.topics[1].slice(26)).toLowerCase() === w.t._chainFrom &&
      ethers.getAddress('0x' + l.topics[2].slice(26)).toLowerCase() === w.t._chainTo &&
      BigInt(l.data) === BigInt(w.t.amount));
    if (!log0) {
      failOp(w.op, w.t, `receipt of ${w.hash} has no Transfer(${w.t._chainFrom}, ${w.t._chainTo}, ${w.t.amount})`);
      continue;
    }
    confirmTransfer(w, r, log0);
  }
}

function confirmTransfer(w, r, l) {
  const block = { number: r.blockNumber };
  const protocolId = `${pad(block.number, 12)}/${pad(r.index, 6)}/${pad(l.index, 6)}`;
  const be = {
    id: uuid(), source: CFG.connector, namespace: CFG.namespace, name: 'Transfer', listener: null, protocolId,
    output: { from: w.t._chainFrom, to: w.t._chainTo, value: w.t.amount },
    info: {
      address: l.address.toLowerCase(), blockNumber: String(r.blockNumber), logIndex: String(l.index),
      signature: 'Transfer(address,address,uint256)', transactionHash: r.hash, transactionIndex: String(r.index),
    },
    timestamp: now(), tx: { type: 'token_transfer', id: w.op.tx, blockchainId: r.hash },
  };
  S.bevents.set(be.id, be);
  const tt = { ...wire(w.t), protocolId, created: now(), tx: { type: 'token_transfer', id: w.op.tx }, blockchainEvent: be.id };
  S.transfers.set(tt.localId, tt);
  setOp(w.op, 'Succeeded', { output: { ...w.op.output, protocolId, blockNumber: String(r.blockNumber), status: 'Succeeded' } });
  emitEvent('token_transfer_confirmed', { reference: tt.localId, tx: w.op.tx, topic: tt.pool },
    () => ({ tokenTransfer: tt }));
  wake(tt.localId, { transfer: tt });
}

function waitTransfer(localId, ms) {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      const arr = S.waiters.get(localId) || [];
      S.waiters.set(localId, arr.filter((x) => x !== done));
      resolve({ timeout: true });
    }, ms);
    const done = (r) => { clearTimeout(t); resolve(r); };
    if (!S.waiters.has(localId)) S.waiters.set(localId, []);
    S.waiters.get(localId).push(done);
  });
}

// POST .../tokens/mint|burn|transfers (assets.transferSender: resolve, idempotency, send[AndWait])
async function postTransfer(ctx, type, body) {
  const { req, q, sock } = ctx;
  const confirm = boolQ(q, 'confirm');
  const started = Date.now();
  const timeoutMs = reqTimeout(req);
  const { t, pool } = resolveTransfer(type, body);
  const key = body.idempotencyKey || '';
  let tx = null;
  if (key && S.idem.has(key)) {
    const existing = S.txs.get(S.idem.get(key));
    const ops = opsOfTx(existing.id);
    if (ops.length === 0) {
      tx = existing; // FireFly crashed before the operation: start again on the same transaction
      log('info', 'idempotent retry: no operation yet', { key, tx: tx.id });
    } else {
      const init = ops.filter((o) => o.status === 'Initialized');
      if (!init.length) throw E.idempotency(key, existing.id);
      for (const op of init) await runOp(op, true); // an error here is the answer (500 on a stuck op)
      log('info', 'idempotent retry: resubmitted', { key, tx: existing.id, ops: init.length });
      // FireFly answers with the replay's own (fresh) localId and the existing transaction
      t.tx = { type: 'token_transfer', id: existing.id };
      return { status: confirm ? 200 : 202, body: wire(t) };
    }
  }
  if (!tx) tx = newTx('token_transfer', key || undefined);
  t.tx = { type: 'token_transfer', id: tx.id };
  if (takeFault((x) => x.kind === 'drop' && x.drop === 'after_tx')) {
    log('warn', 'fault: dropping the connection after the transaction (FireFly crash before its operation)', { tx: tx.id });
    sock.destroy();
    return null;
  }
  const op = newOp(tx.id, 'token_transfer', wire(t));
  S.meta.set(op.id, { pool, chainFrom: t._chainFrom, chainTo: t._chainTo, idem: key });
  const waiting = confirm ? waitTransfer(t.localId, timeoutMs) : null;
  try {
    await runOp(op, !!key);
  } catch (e) {
    if (waiting) wake(t.localId, { cancelled: true });
    throw e;
  }
  if (takeFault((x) => x.kind === 'drop' && x.drop === 'after_submit')) {
    log('warn', 'fault: dropping the connection after submission (response lost)', { tx: tx.id });
    sock.destroy();
    return null;
  }
  if (!confirm) return { status: 202, body: wire(t) };
  const r = await waiting;
  if (r.transfer) return { status: 200, body: r.transfer };
  if (r.failed) throw E.transferFailed(t.localId);
  throw E.timeout(t.localId, Date.now() - started);
}

function reqTimeout(req) {
  const h = req.headers['request-timeout'];
  if (h) {
    const ms = durationMs(h, 1000);
    if (ms !== null) return Math.min(ms, CFG.maxTimeoutMs);
    log('warn', 'invalid Request-Timeout header', { value: h });
  }
  return CFG.requestTimeoutMs;
}

function boolQ(q, name) {
  if (!q.has(name)) return false;
  const v = q.get(name);
  return v === '' || v.toLowerCase() === 'true';
}

async function retryOp(id) {
  const old = S.ops.get(id);
  if (!old) throw E.noResult();
  const tx = S.txs.get(old.tx);
  if (!S.meta.has(old.id)) throw E.badRequest(`operation ${old.id} of type ${old.type} cannot be retried by the double`);
  const op = newOp(old.tx, old.type, { ...old.input });
  S.meta.set(op.id, S.meta.get(old.id));
  old.retry = op.id;
  await runOp(op, !!(tx && tx.idempotencyKey));
  return op;
}

function txStatus(tx) {
  const ops = opsOfTx(tx.id);
  const details = ops.map((o) => ({
    type: 'Operation', subtype: o.type, status: o.status, timestamp: o.updated, id: o.id, error: o.error || undefined,
  }));
  let status = 'Succeeded';
  if (!ops.length || ops.some((o) => o.status === 'Pending' || o.status === 'Initialized')) status = 'Pending';
  if (ops.some((o) => o.status === 'Failed' && !o.retry)) status = 'Failed';
  if (tx.type === 'token_transfer') {
    const tt = [...S.transfers.values()].find((x) => x.tx.id === tx.id);
    if (tt) {
      details.push({ type: 'BlockchainEvent', subtype: 'Transfer', status: 'Succeeded', timestamp: S.bevents.get(tt.blockchainEvent).timestamp, id: tt.blockchainEvent });
      details.push({ type: 'TokenTransfer', subtype: tt.type, status: 'Succeeded', timestamp: tt.created, id: tt.localId });
    } else if (status === 'Succeeded') {
      status = 'Pending';
    }
  }
  return { status, details };
}

// ---------------------------------------------------------------------------------------------
// collections: FireFly's filters (field=value, case-insensitive names; plain equality and '!'),
// limit (default 25), skip, sort (newest first by default), count=true -> {count,total,items}

function listResult(q, items, fields) {
  let out = items.slice();
  for (const [name, value] of q) {
    const lname = name.toLowerCase();
    if (['limit', 'skip', 'sort', 'count', 'descending', 'ascending', 'fetchreferences', 'fetchstatus'].includes(lname)) continue;
    const get = fields[lname];
    if (!get) continue;
    const neg = value.startsWith('!');
    const v = (neg ? value.slice(1) : value).toLowerCase();
    out = out.filter((x) => {
      const fv = get(x);
      const eq = fv !== undefined && fv !== null && String(fv).toLowerCase() === v;
      return neg ? !eq : eq;
    });
  }
  if (!boolQ(q, 'ascending')) out.reverse();
  const total = out.length;
  const skip = Number(q.get('skip') || 0);
  const limit = Number(q.get('limit') || 25);
  out = out.slice(skip, skip + limit);
  return boolQ(q, 'count') ? { count: out.length, total, items: out } : out;
}

const F = {
  transfers: {
    localid: (x) => x.localId, pool: (x) => x.pool, key: (x) => x.key, from: (x) => x.from, to: (x) => x.to,
    type: (x) => x.type, amount: (x) => x.amount, protocolid: (x) => x.protocolId, 'tx.id': (x) => x.tx.id,
    'tx.type': (x) => x.tx.type, blockchainevent: (x) => x.blockchainEvent, connector: (x) => x.connector,
  },
  ops: { id: (x) => x.id, tx: (x) => x.tx, type: (x) => x.type, status: (x) => x.status, plugin: (x) => x.plugin, retry: (x) => x.retry },
  txs: { id: (x) => x.id, type: (x) => x.type, idempotencykey: (x) => x.idempotencyKey, blockchainids: (x) => x.blockchainIds.join(',') },
  events: { id: (x) => x.id, type: (x) => x.type, reference: (x) => x.reference, correlator: (x) => x.correlator, tx: (x) => x.tx, topic: (x) => x.topic, sequence: (x) => x.sequence },
  pools: { id: (x) => x.id, name: (x) => x.name, type: (x) => x.type, standard: (x) => x.standard, connector: (x) => x.connector },
  bevents: { id: (x) => x.id, name: (x) => x.name, protocolid: (x) => x.protocolId, 'tx.id': (x) => x.tx.id, 'tx.blockchainid': (x) => x.tx.blockchainId },
  subs: { id: (x) => x.id, name: (x) => x.name, transport: (x) => x.transport },
};

function byId(map, id) {
  if (!UUID_RE.test(id)) throw E.badUUID();
  const x = map.get(id);
  if (!x) throw E.noResult();
  return x;
}

// ---------------------------------------------------------------------------------------------
// HTTP routing

const routes = [];
function route(method, pattern, handler, opts) {
  const keys = [];
  const re = new RegExp('^' + pattern.replace(/\{(\w+)\}/g, (_, k) => { keys.push(k); return '([^/]+)'; }) + '/?$');
  routes.push({ method, re, keys, handler, json: !!(opts && opts.json) });
}
const NS = '/api/v1/namespaces/{ns}';

route('GET', '/api/v1/status', () => ({ status: 200, body: statusBody() }));
route('GET', NS + '/status', (c) => { ensureNS(c.p.ns); return { status: 200, body: statusBody() }; });
route('GET', '/api/v1/namespaces', () => ({ status: 200, body: [{ name: CFG.namespace, networkName: CFG.namespace, description: 'firefly-double', created: T0 }] }));
route('GET', '/api/v1/namespaces/{ns}', (c) => { ensureNS(c.p.ns); return { status: 200, body: { name: CFG.namespace, networkName: CFG.namespace, description: 'firefly-double', created: T0 } }; });

for (const [path, type] of [['mint', 'mint'], ['burn', 'burn'], ['transfers', 'transfer']]) {
  route('POST', `${NS}/tokens/${path}`, (c) => { ensureNS(c.p.ns); return postTransfer(c, type, c.body); }, { json: true });
}
route('GET', NS + '/tokens/transfers', (c) => { ensureNS(c.p.ns); return { status: 200, body: listResult(c.q, [...S.transfers.values()], F.transfers) }; });
route('GET', NS + '/tokens/transfers/{id}', (c) => { ensureNS(c.p.ns); return { status: 200, body: byId(S.transfers, c.p.id) }; });
route('POST', NS + '/tokens/pools', (c) => { ensureNS(c.p.ns); return createPool(c.p.ns, c.body, boolQ(c.q, 'confirm')); }, { json: true });
route('GET', NS + '/tokens/pools', (c) => { ensureNS(c.p.ns); return { status: 200, body: listResult(c.q, [...S.pools.values()], F.pools) }; });
route('GET', NS + '/tokens/pools/{id}', (c) => {
  ensureNS(c.p.ns);
  const p = findPool(decodeURIComponent(c.p.id));
  if (!p) throw E.poolNotFound();
  return { status: 200, body: p };
});
route('GET', NS + '/tokens/balances', async (c) => {
  ensureNS(c.p.ns);
  // FireFly sums its indexed transfers; the double reads balanceOf on the chain for key (and pool)
  const key = [...c.q].find(([k]) => k.toLowerCase() === 'key');
  if (!key || !ADDR_RE.test(key[1])) throw E.badRequest('the double answers balances for one key: ?key=0x...');
  const poolQ = [...c.q].find(([k]) => k.toLowerCase() === 'pool');
  const pools = [...S.pools.values()].filter((p) => !poolQ || p.id === poolQ[1] || p.name === poolQ[1]);
  const out = [];
  for (const p of pools) {
    const bal = await new ethers.Contract(p.config.address, ERC20_ABI, provider).balanceOf(key[1]);
    out.push({ pool: p.id, tokenIndex: '', uri: '', connector: p.connector, namespace: CFG.namespace, key: key[1].toLowerCase(), balance: bal.toString(), updated: now() });
  }
  return { status: 200, body: out };
});
route('GET', NS + '/operations', (c) => { ensureNS(c.p.ns); return { status: 200, body: listResult(c.q, [...S.ops.values()], F.ops) }; });
route('GET', NS + '/operations/{id}', (c) => { ensureNS(c.p.ns); return { status: 200, body: byId(S.ops, c.p.id) }; });
route('POST', NS + '/operations/{id}/retry', async (c) => { ensureNS(c.p.ns); byId(S.ops, c.p.id); return { status: 202, body: await retryOp(c.p.id) }; });
route('GET', NS + '/transactions', (c) => { ensureNS(c.p.ns); return { status: 200, body: listResult(c.q, [...S.txs.values()], F.txs) }; });
route('GET', NS + '/transactions/{id}', (c) => { ensureNS(c.p.ns); return { status: 200, body: byId(S.txs, c.p.id) }; });
route('GET', NS + '/transactions/{id}/operations', (c) => { ensureNS(c.p.ns); const tx = byId(S.txs, c.p.id); return { status: 200, body: opsOfTx(tx.id) }; });
route('GET', NS + '/transactions/{id}/status', (c) => { ensureNS(c.p.ns); return { status: 200, body: txStatus(byId(S.txs, c.p.id)) }; });
route('GET', NS + '/transactions/{id}/blockchainevents', (c) => {
  ensureNS(c.p.ns);
  const tx = byId(S.txs, c.p.id);
  return { status: 200, body: [...S.bevents.values()].filter((b) => b.tx.id === tx.id) };
});
route('GET', NS + '/blockchainevents', (c) => { ensureNS(c.p.ns); return { status: 200, body: listResult(c.q, [...S.bevents.values()], F.bevents) }; });
route('GET', NS + '/blockchainevents/{id}', (c) => { ensureNS(c.p.ns); return { status: 200, body: byId(S.bevents, c.p.id) }; });
route('GET', NS + '/events', (c) => {
  ensureNS(c.p.ns);
  return { status: 200, body: listResult(c.q, S.events.map((r) => r.ev), F.events) };
});
route('GET', NS + '/subscriptions', (c) => {
  ensureNS(c.p.ns);
  return { status: 200, body: listResult(c.q, [...S.subs.values()].filter((s) => !s.ephemeral).map(subView), F.subs) };
});
route('GET', NS + '/subscriptions/{id}', (c) => { ensureNS(c.p.ns); return { status: 200, body: subView(byId(S.subs, c.p.id)) }; });
route('POST', NS + '/subscriptions', (c) => {
  ensureNS(c.p.ns);
  const sub = newSub(c.p.ns, c.body || {}, false);
  if ([...S.subs.values()].some((s) => !s.ephemeral && s.name === sub.name)) throw E.subDup(c.p.ns, sub.name);
  S.subs.set(sub.id, sub);
  kickSub(sub);
  return { status: 201, body: subView(sub) };
}, { json: true });
route('PUT', NS + '/subscriptions', (c) => {
  ensureNS(c.p.ns);
  const sub = newSub(c.p.ns, c.body || {}, false);
  const old = [...S.subs.values()].find((s) => !s.ephemeral && s.name === sub.name);
  if (old) {
    // FireFly keeps the subscription's id and offset on an update
    sub.id = old.id;
    sub._offset = old._offset;
    if (old._conn) old._conn.sock.close();
  }
  S.subs.set(sub.id, sub);
  kickSub(sub);
  return { status: 200, body: subView(sub) };
}, { json: true });
route('DELETE', NS + '/subscriptions/{id}', (c) => {
  ensureNS(c.p.ns);
  const sub = byId(S.subs, c.p.id);
  S.subs.delete(sub.id);
  if (sub._conn) sub._conn.sock.close();
  return { status: 204 };
});

// admin (fault injection, state) - /__double/...
route('GET', '/__double/faults', () => ({ status: 200, body: faultsView() }));
route('DELETE', '/__double/faults', () => {
  FAULTS.list = [];
  FAULTS.hold = false;
  FAULTS.duplicateEvents = CFG.duplicateEvents;
  setDown(false);
  releaseHeld();
  return { status: 200, body: faultsView() };
});
route('POST', '/__double/faults', (c) => {
  const list = Array.isArray(c.body && c.body.faults) ? c.body.faults : [c.body];
  for (const f of list) addFault(f || {});
  return { status: 200, body: faultsView() };
}, { json: true });
route('GET', '/__double/state', () => {
  const ops = {};
  for (const o of S.ops.values()) ops[o.status] = (ops[o.status] || 0) + 1;
  return {
    status: 200,
    body: {
      pools: S.pools.size, transactions: S.txs.size, operations: ops, transfers: S.transfers.size,
      events: S.events.length, subscriptions: [...S.subs.values()].map((s) => ({ name: s.name, transport: s.transport, offset: s._offset, connected: !!s._conn })),
      chainTransactions: S.chainTxs, watching: S.watching.size, held: held.length, faults: faultsView(),
    },
  };
});

function addFault(f) {
  const count = f.count === undefined ? (f.key ? -1 : 1) : Number(f.count);
  if (!Number.isInteger(count) || count < -1) throw E.badRequest('count must be an integer >= 0 (or -1: forever)');
  if (f.down !== undefined) {
    setDown(!!f.down, f.ms);
  } else if (f.hold !== undefined) {
    FAULTS.hold = !!f.hold;
    if (!FAULTS.hold) releaseHeld();
  } else if (f.duplicateEvents !== undefined) {
    FAULTS.duplicateEvents = !!f.duplicateEvents;
  } else if (f.drop !== undefined) {
    if (f.drop !== 'after_tx' && f.drop !== 'after_submit') throw E.badRequest("drop is 'after_tx' or 'after_submit'");
    FAULTS.list.push({ kind: 'drop', drop: f.drop, count });
  } else if (f.fail !== undefined) {
    if (f.fail !== 'receipt') throw E.badRequest("fail is 'receipt'");
    FAULTS.list.push({ kind: 'fail', count });
  } else if (f.status !== undefined) {
    const status = Number(f.status);
    if (!Number.isInteger(status) || status < 400 || status > 599) throw E.badRequest('status must be 400..599');
    const stage = f.stage || 'connector';
    if (stage !== 'connector' && stage !== 'api') throw E.badRequest("stage is 'connector' or 'api'");
    FAULTS.list.push({ kind: 'status', stage, status, key: f.key ? String(f.key) : undefined, count });
  } else {
    throw E.badRequest('unknown fault: one of status, down, hold, drop, fail, duplicateEvents');
  }
  log('info', 'fault', { fault: f });
}

function faultsView() {
  return {
    down: FAULTS.down, hold: FAULTS.hold, duplicateEvents: FAULTS.duplicateEvents,
    list: FAULTS.list.filter((f) => f.count !== 0),
  };
}

function releaseHeld() {
  while (held.length) {
    const h = held.shift();
    submitToChain(h.op, h.pool, h.t).catch((e) => failOp(h.op, h.t, e.message));
  }
}

const T0 = now();
function statusBody() {
  return {
    namespace: { name: CFG.namespace, networkName: CFG.namespace, description: 'firefly-double', created: T0 },
    node: { name: 'firefly-double', registered: true },
    org: { name: 'firefly-double', registered: true, verifiers: [...signers.values()].map((s) => ({ type: 'ethereum_address', value: s.wallet.address.toLowerCase() })) },
    plugins: { tokens: [{ name: CFG.connector, pluginType: 'fftokens' }], blockchain: [{ name: 'ethereum', pluginType: 'ethereum' }] },
    multiparty: { enabled: false },
  };
}

function sendJSON(res, status, body) {
  if (res.writableEnded || res.destroyed) return;
  if (status === 204) { res.writeHead(204); res.end(); return; }
  const s = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

async function handle(req, res, adminOnly) {
  const t0 = Date.now();
  const url = new URL(req.url, 'http://x');
  const isAdmin = url.pathname.startsWith('/__double/');
  if (!isAdmin && (adminOnly || FAULTS.down)) {
    req.socket.destroy(); // unreachable
    return;
  }
  let status = 500;
  try {
    const r = routes.find((x) => x.method === req.method && x.re.test(url.pathname)) ||
      (routes.some((x) => x.re.test(url.pathname)) ? 'method' : null);
    if (!r) throw E.notFound();
    if (r === 'method') throw new FFError(405, null, 'Method Not Allowed');
    const m = r.re.exec(url.pathname);
    const p = {};
    r.keys.forEach((k, i) => { p[k] = decodeURIComponent(m[i + 1]); });
    const raw = await readBody(req);
    let body;
    if (r.json) {
      if (!String(req.headers['content-type'] || '').toLowerCase().startsWith('application/json')) throw E.contentType();
      try { body = raw.length ? JSON.parse(raw) : {}; } catch (e) { throw E.badRequest(e.message); }
    }
    if (!isAdmin) {
      const f = takeFault((x) => x.kind === 'status' && x.stage === 'api' && req.method !== 'GET');
      if (f) throw new FFError(f.status, null, `injected API failure (${f.status})`);
    }
    const out = await r.handler({ req, res, q: url.searchParams, p, body, sock: req.socket });
    if (out === null) { status = 0; return; } // connection dropped on purpose
    status = out.status;
    sendJSON(res, out.status, out.body);
  } catch (e) {
    status = e instanceof FFError ? e.status : 500;
    if (!(e instanceof FFError)) log('error', 'handler failed', { error: e.stack || String(e) });
    sendJSON(res, status, { error: e.message });
  } finally {
    log(status >= 500 || status === 0 ? 'warn' : 'debug', 'http', { method: req.method, path: url.pathname, status, ms: Date.now() - t0 });
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > 1 << 20) { reject(new FFError(413, null, 'body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// servers

const api = http.createServer((req, res) => { handle(req, res, false); });
const wss = new WebSocketServer({ noServer: true });
api.on('upgrade', (req, sock, head) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (FAULTS.down || (path !== '/ws' && path !== '/ws/')) { sock.destroy(); return; }
  wss.handleUpgrade(req, sock, head, (ws) => wsConnection(ws, req));
});
const admin = CFG.adminPort !== null ? http.createServer((req, res) => { handle(req, res, true); }) : null;
let apiListening = false;

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, CFG.host, () => { server.off('error', reject); resolve(server.address().port); });
  });
}

let downTimer = null;
function setDown(down, ms) {
  FAULTS.down = down;
  clearTimeout(downTimer);
  if (down && ms) downTimer = setTimeout(() => setDown(false), Number(ms));
  if (!admin) return; // without an admin listener, "down" resets API connections instead
  if (down && apiListening) {
    apiListening = false;
    api.close();
    api.closeAllConnections();
    for (const c of wss.clients) c.terminate();
    log('warn', 'API down (connections refused)');
  } else if (!down && !apiListening) {
    apiListening = true;
    listen(api, CFG.port).then(() => log('info', 'API up again', { port: CFG.port })).catch((e) => {
      apiListening = false;
      log('error', 'API could not listen again', { error: e.message });
    });
  }
}

async function main() {
  // pools configured at start (FF_DOUBLE_POOLS=name=0xaddr,...)
  for (const item of (env.FF_DOUBLE_POOLS || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, address] = item.split('=');
    if (!name || !ADDR_RE.test(address || '')) fatal(`FF_DOUBLE_POOLS: bad entry '${item}' (name=0xADDRESS)`);
    try {
      await createPool(CFG.namespace, { name, type: 'fungible', config: { address } }, true);
    } catch (e) {
      fatal(`FF_DOUBLE_POOLS: ${name}: ${e.message}`);
    }
  }
  const port = await listen(api, CFG.port);
  apiListening = true;
  const adminPort = admin ? await listen(admin, CFG.adminPort) : null;
  log('info', 'listening', {
    port, adminPort, namespace: CFG.namespace, rpc: CFG.rpcUrl, keys: [...signers.values()].map((s) => s.wallet.address),
    confirmations: CFG.confirmations, duplicateEvents: CFG.duplicateEvents,
  });
  const tick = async () => {
    try { await pollReceipts(); } catch (e) { log('warn', 'receipt poll failed', { error: e.message }); }
    setTimeout(tick, CFG.pollMs);
  };
  tick();
}

function stop(sig) {
  log('info', 'stopping', { signal: sig });
  for (const c of wss.clients) c.terminate();
  api.closeAllConnections();
  if (admin) admin.closeAllConnections();
  provider.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('unhandledRejection', (e) => log('error', 'unhandled rejection', { error: (e && e.stack) || String(e) }));

main().catch((e) => {
  log('error', 'start failed', { error: e.message });
  process.exit(1);
});
