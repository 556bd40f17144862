#!/usr/bin/env node
// One real Router.ccipSend(destChainSelector, Client.EVM2AnyMessage) paying the fee in native
// (feeToken = 0: the Router wraps msg.value into WETH9; value = Router.getFee), and the OnRamp's own
// CCIPMessageSent log decoded with the official v1_6_0 onramp ABI. Prints one JSON object:
//   {txHash, blockNumber, gasUsed, fee, logIndex, onRamp, destChainSelector, sequenceNumber,
//    message: {messageId, sourceChainSelector, destChainSelector, sequenceNumber, nonce, sender, data,
//              receiver, extraArgs, feeToken, feeTokenAmount, feeValueJuels, tokenAmounts}}
//   node send.js ADDRS.json RECEIVER [DATA [EXTRA_ARGS]]
//     ADDRS.json: deploy_send_side.js's output; RECEIVER: an address (abi.encode'd as the EVM receiver);
//     DATA, EXTRA_ARGS: 0x-hex ('' or 0x = empty); EXTRA_ARGS may also be v1:GAS or v2:GAS:OOO (true/false).
// Env: RPC_URL, DEPLOYER_KEY (anvil dev key #0).
'use strict';
const fs = require('fs');
const L = require('./lib');
const { ethers } = L;

function big(v) { return typeof v === 'bigint' ? v.toString() : v; }

async function ccipSend(w, addrs, { receiver, data, extraArgs }) {
  const router = new ethers.Contract(addrs.router, L.abi(L.OFFICIAL.router), w);
  const onRampIf = L.iface('onRamp');
  const msg = {
    receiver: ethers.AbiCoder.defaultAbiCoder().encode(['address'], [receiver]),
    data: data || '0x',
    tokenAmounts: [],
    feeToken: ethers.ZeroAddress,
    extraArgs: extraArgs || '0x',
  };
  const dest = BigInt(addrs.destChainSelector);
  let fee;
  try {
    fee = await router.getFee(dest, msg);
  } catch (e) {
    throw new Error(`Router.getFee reverted: ${L.decodeRevert(L.revertData(e))}`);
  }
  let tx;
  try {
    tx = await router.ccipSend(dest, msg, { value: fee });
  } catch (e) {
    throw new Error(`Router.ccipSend reverted: ${L.decodeRevert(L.revertData(e))} (${e.shortMessage || e.message})`);
  }
  const rc = await tx.wait();
  if (rc.status !== 1) throw new Error(`ccipSend status ${rc.status}`);
  const logs = rc.logs.filter((l) => l.address.toLowerCase() === addrs.onRamp.toLowerCase() &&
    l.topics[0] === onRampIf.getEvent('CCIPMessageSent').topicHash);
  if (logs.length !== 1) throw new Error(`expected one CCIPMessageSent from the OnRamp, got ${logs.length}`);
  const ev = onRampIf.parseLog(logs[0]);
  const m = ev.args.message;
  return {
    txHash: rc.hash,
    blockNumber: rc.blockNumber,
    gasUsed: Number(rc.gasUsed),
    fee: fee.toString(),
    logIndex: logs[0].index,
    onRamp: logs[0].address,
    destChainSelector: big(ev.args.destChainSelector),
    sequenceNumber: big(ev.args.sequenceNumber),
    message: {
      messageId: m.header.messageId,
      sourceChainSelector: big(m.header.sourceChainSelector),
      destChainSelector: big(m.header.destChainSelector),
      sequenceNumber: big(m.header.sequenceNumber),
      nonce: big(m.header.nonce),
      sender: m.sender,
      data: m.data,
      receiver: m.receiver,
      extraArgs: m.extraArgs,
      feeToken: m.feeToken,
      feeTokenAmount: big(m.feeTokenAmount),
      feeValueJuels: big(m.feeValueJuels),
      tokenAmounts: m.tokenAmounts.map((t) => ({ sourcePoolAddress: t.sourcePoolAddress, amount: big(t.amount) })),
    },
  };
}

function parseExtraArgs(s) {
  if (!s || s === '0x') return '0x';
  let m = /^v1:(\d+)$/.exec(s);
  if (m) return L.extraArgsV1(m[1]);
  m = /^v2:(\d+):(true|false)$/.exec(s);
  if (m) return L.extraArgsV2(m[1], m[2] === 'true');
  return s;
}

async function main() {
  const [file, receiver, data, extra] = process.argv.slice(2);
  if (!file || !receiver) {
    console.error('usage: send.js ADDRS.json RECEIVER [DATA [EXTRA_ARGS]]');
    process.exit(2);
  }
  const addrs = JSON.parse(fs.readFileSync(file, 'utf8'));
  const r = await ccipSend(L.signer(), addrs, { receiver, data: data || '0x', extraArgs: parseExtraArgs(extra) });
  console.log(JSON.stringify(r));
}

module.exports = { ccipSend };
if (require.main === module) main().catch((e) => { console.error(`send: ${e.message}`); process.exit(1); });
