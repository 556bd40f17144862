// ccip_gen_logs.js - writes a recorded-style eth_getLogs response of N mixed CCIP logs (deterministic: a
// fixed-seed PRNG, no clock) and the CCIP_CONFIG of the chain it came from, for the ccip-tail bench.
//
//   node tests/bench/ccip_gen_logs.js OUT.json CONFIG.json [N=10000]
//
// The chain is Ethereum (selector 5009297550715157269) as one ccip-tail instance sees it:
//   - its v1.6 OnRamp sending to Arbitrum and Base (CCIPMessageSent), its v1.5 OnRamp sending to
//     Avalanche (CCIPSendRequested);
//   - its v1.6 OffRamp committing (CommitReportAccepted: 1-2 lanes per report, blessed or not, gas and
//     token price updates) and executing (ExecutionStateChanged) Arbitrum->Ethereum and
//     Base->Ethereum messages, with the Router's MessageExecuted before each successful execution (same
//     tx, as on real deployments); ~7% failures with Error(string) or custom-error return data;
//   - its v1.5 CommitStore (ReportAccepted) and OffRamp (ExecutionStateChanged) for Avalanche->Ethereum.
// Payloads vary: message data 0..2 KiB, 0-3 token transfers (with source token data for v1.5), fee
// tokens, extra args, gas limits. Encoded by ethers' own ABI coder from the event ABIs (ccip_abi.js),
// so the baseline parses exactly what it would see from a node.
const fs = require('fs');
const path = require('path');
const { Interface, AbiCoder, keccak256, toBeHex, zeroPadValue, getAddress, concat, toUtf8Bytes } =
  require(path.join(__dirname, '../chain/node_modules/ethers'));
const ABI = require('./ccip_abi.js');

const [out, cfgOut, nArg] = process.argv.slice(2);
if (!out || !cfgOut) {
  console.error('usage: ccip_gen_logs.js OUT.json CONFIG.json [N]');
  process.exit(2);
}
const N = parseInt(nArg || '10000', 10);
const iface = new Interface(ABI);
const coder = AbiCoder.defaultAbiCoder();

// mulberry32: deterministic
let seed = 0x0cc1b7a1;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const rbytes = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = ri(0, 255); return '0x' + b.toString('hex'); };
const addr = (tag) => getAddress('0x' + keccak256(toUtf8Bytes(tag)).slice(26));
const word = (tag) => keccak256(toUtf8Bytes(tag));

const SEL = { eth: 5009297550715157269n, arb: 4949039107694359620n, base: 15971525489660198786n, avax: 6433500567565415381n };
const C = {
  onramp16: addr('eth/OnRamp1.6'), onramp15: addr('eth/EVM2EVMOnRamp1.5->avax'),
  offramp16: addr('eth/OffRamp1.6'), offramp15: addr('eth/EVM2EVMOffRamp1.5<-avax'),
  commit15: addr('eth/CommitStore1.5<-avax'), router: addr('eth/Router'),
  // remote OnRamps named in the v1.6 MerkleRoots
  arbOnramp: addr('arb/OnRamp1.6'), baseOnramp: addr('base/OnRamp1.6'),
};
const LINK = addr('eth/LINK'), WETH = addr('eth/WETH');
const TOKENS = [addr('eth/USDC'), addr('eth/LINK'), addr('eth/WETH'), addr('eth/wstETH')];
const POOLS = TOKENS.map((t, i) => addr('eth/pool' + i));
const senders = Array.from({ length: 64 }, (_, i) => addr('user' + i));

const ev = (sig) => iface.getEvent(sig);
const E = {
  send15: ev('CCIPSendRequested'),
  exec15: ev('ExecutionStateChanged(uint64,bytes32,uint8,bytes)'),
  commit15: ev('ReportAccepted'),
  send16: ev('CCIPMessageSent'),
  exec16: ev('ExecutionStateChanged(uint64,uint64,bytes32,bytes32,uint8,bytes,uint256)'),
  commit16: ev('CommitReportAccepted'),
  router: ev('MessageExecuted'),
};

function dataLen() {
  const r = rnd();
  if (r < 0.25) return 0;
  if (r < 0.75) return ri(1, 256);
  return ri(257, 2048);
}
function ntokens() {
  const r = rnd();
  return r < 0.6 ? 0 : r < 0.9 ? 1 : ri(2, 3);
}
function prices() {
  const tpu = Array.from({ length: rnd() < 0.7 ? 0 : ri(1, 3) }, () => [TOKENS[ri(0, 3)], BigInt(ri(1, 4000)) * 10n ** 18n]);
  const gpu = Array.from({ length: ri(0, 3) }, () => [[SEL.arb, SEL.base, SEL.avax][ri(0, 2)], BigInt(ri(1, 1e6)) * 10n ** 9n]);
  return [tpu, gpu];
}
function revertData() {
  if (rnd() < 0.5) {
    const msg = ['ERC20: transfer amount exceeds balance', 'receiver reverted', 'Ownable: caller is not the owner',
      'insufficient liquidity'][ri(0, 3)];
    return concat(['0x08c379a0', coder.encode(['string'], [msg])]);
  }
  return concat([rbytes(4), coder.encode(['uint256', 'address'], [BigInt(ri(0, 1e9)), senders[ri(0, 63)]])]);
}

// ---- the chain: blocks of transactions of logs ----
const logs = [];
let block = 21000000, btime = 1735689600, logIndex = 0, txIndex = 0;
let blockHash = word('block' + block), txHash = word('tx' + block + '/0');
function nextTx() {
  if (rnd() < 0.3) { // new block (some empty blocks in between)
    block += ri(1, 3); btime += 12 * ri(1, 3); logIndex = 0; txIndex = 0;
    blockHash = word('block' + block);
  } else {
    txIndex += ri(1, 4);
  }
  txHash = word('tx' + block + '/' + txIndex);
}
function emit(address, frag, values) {
  const { data, topics } = iface.encodeEventLog(frag, values);
  logs.push({
    address: address.toLowerCase(), topics, data, blockNumber: toBeHex(block), transactionHash: txHash,
    transactionIndex: toBeHex(txIndex), blockHash, blockTimestamp: toBeHex(btime), logIndex: toBeHex(logIndex++),
    removed: false,
  });
}

// outbound lanes
const out16 = { [SEL.arb]: { seq: 90000, nonce: {} }, [SEL.base]: { seq: 41000, nonce: {} } };
let seq15 = 7000;
// inbound lanes: next to commit, next to execute
const in16 = [
  { src: SEL.arb, onramp: C.arbOnramp, committed: 120000, executed: 120000 },
  { src: SEL.base, onramp: C.baseOnramp, committed: 55000, executed: 55000 },
];
const in15 = { committed: 3000, executed: 3000 };
const inId = (src, seq) => keccak256(coder.encode(['uint64', 'uint64', 'string'], [src, seq, 'msg']));

function send16() {
  const dst = rnd() < 0.6 ? SEL.arb : SEL.base;
  const lane = out16[dst];
  const seq = BigInt(++lane.seq);
  const si = ri(0, 63), sender = senders[si];
  const nonce = BigInt((lane.nonce[si] = (lane.nonce[si] || 0) + 1));
  const id = keccak256(coder.encode(['uint64', 'uint64', 'uint64'], [SEL.eth, dst, seq]));
  const ta = Array.from({ length: ntokens() }, () => {
    const k = ri(0, 3);
    return [POOLS[k], coder.encode(['address'], [addr('remote/token' + k)]), coder.encode(['uint8'], [18]),
      BigInt(ri(1, 1e6)) * 10n ** 15n, coder.encode(['uint32'], [ri(50000, 90000)])];
  });
  const extra = concat(['0x181dcf10', coder.encode(['uint256', 'bool'], [BigInt(ri(0, 10) * 50000), rnd() < 0.5])]);
  const feeToken = rnd() < 0.7 ? LINK : WETH;
  emit(C.onramp16, E.send16, [dst, seq, [[id, SEL.eth, dst, seq, nonce], sender, rbytes(dataLen()),
    coder.encode(['address'], [senders[ri(0, 63)]]), extra, feeToken, BigInt(ri(1, 5e6)) * 10n ** 11n,
    BigInt(ri(1, 5e6)) * 10n ** 12n, ta]]);
}
function send15() {
  const seq = BigInt(++seq15);
  const n = ntokens();
  const ta = Array.from({ length: n }, () => [TOKENS[ri(0, 3)], BigInt(ri(1, 1e6)) * 10n ** 15n]);
  const std = Array.from({ length: n }, () => coder.encode(['bytes', 'bytes', 'bytes'],
    [coder.encode(['address'], [POOLS[ri(0, 3)]]), coder.encode(['address'], [addr('avax/token')]), '0x']));
  const id = keccak256(coder.encode(['uint64', 'uint64', 'uint64'], [SEL.eth, SEL.avax, seq]));
  emit(C.onramp15, E.send15, [[SEL.eth, senders[ri(0, 63)], senders[ri(0, 63)], seq, BigInt(ri(1, 20) * 50000),
    false, seq, rnd() < 0.7 ? LINK : WETH, BigInt(ri(1, 5e6)) * 10n ** 11n, rbytes(dataLen()), ta, std, id]]);
}
function commit16() {
  const lanes = rnd() < 0.5 ? [in16[ri(0, 1)]] : in16;
  const roots = lanes.map((l) => {
    const k = ri(5, 40), min = l.committed + 1, max = l.committed + k;
    l.committed = max;
    return [l.src, coder.encode(['address'], [l.onramp]), BigInt(min), BigInt(max), rbytes(32)];
  });
  const blessed = rnd() < 0.5;
  emit(C.offramp16, E.commit16, [blessed ? roots : [], blessed ? [] : roots, prices()]);
}
function exec16() {
  const l = in16[ri(0, 1)];
  if (l.executed >= l.committed) return commit16();
  const seq = BigInt(++l.executed), id = inId(l.src, seq);
  const ok = rnd() >= 0.07;
  if (ok) emit(C.router, E.router, [id, l.src, C.offramp16, rbytes(32)]);
  emit(C.offramp16, E.exec16, [l.src, seq, id, keccak256(id), ok ? 2 : 3, ok ? '0x' : revertData(),
    BigInt(ri(30000, 400000))]);
}
function exec15() {
  if (in15.executed >= in15.committed) {
    const k = ri(5, 30), min = in15.committed + 1, max = in15.committed + k;
    in15.committed = max;
    return emit(C.commit15, E.commit15, [[prices(), [BigInt(min), BigInt(max)], rbytes(32)]]);
  }
  const seq = BigInt(++in15.executed), id = inId(SEL.avax, seq);
  const ok = rnd() >= 0.07;
  emit(C.offramp15, E.exec15, [seq, id, ok ? 2 : 3, ok ? '0x' : revertData()]);
}

while (logs.length < N) {
  nextTx();
  const r = rnd();
  if (r < 0.30) send16();
  else if (r < 0.42) send15();
  else if (r < 0.85) exec16();
  else exec15();
}
logs.length = N;
fs.writeFileSync(out, JSON.stringify({ jsonrpc: '2.0', id: 1, result: logs }));

const hex = (a) => a.toLowerCase();
fs.writeFileSync(cfgOut, JSON.stringify({
  chains: [{
    name: 'ethereum', selector: SEL.eth.toString(), chain_id: 1, rpc_url: 'http://127.0.0.1:1', confirmations: 0,
    router: hex(C.router),
    contracts: [hex(C.onramp16), hex(C.offramp16),
      { address: hex(C.onramp15), peer_selector: SEL.avax.toString() },
      { address: hex(C.offramp15), peer_selector: SEL.avax.toString() },
      { address: hex(C.commit15), peer_selector: SEL.avax.toString() }],
  }],
}, null, 1));
const byName = {};
for (const l of logs) { const n = iface.parseLog(l).signature.split('(')[0]; byName[n] = (byName[n] || 0) + 1; }
console.error(`ccip_gen_logs: ${N} logs in blocks ${logs[0].blockNumber}..${logs[N - 1].blockNumber}, ` +
  `${fs.statSync(out).size} bytes: ${JSON.stringify(byName)}`);
