#!/usr/bin/env node
// Deploys one OracleAggregator per feed for tests/bench/publisher_scale.sh, all from one deployer with
// consecutive nonces sent at once (hundreds of contracts in a few blocks), and prints the addresses in
// order, one per line.
//   node deploy_many.js TRANSMITTERS_FILE
// TRANSMITTERS_FILE: one line per feed, "<feed> <transmitter address>[,<another>...]"; the contract's
// description is the feed name, 8 decimals, no bounds, those transmitters (a key, and an
// OracleBatcher when the bench batches).
// Env: RPC_URL, DEPLOYER_KEY (default anvil's public dev key #0), CONTRACTS_OUT (build/contracts).
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require(path.join(__dirname, '..', 'chain', 'node_modules', 'ethers'));

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = process.env.CONTRACTS_OUT || path.join(ROOT, 'build', 'contracts');
const DEV_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'; // anvil's public dev key #0

async function main() {
  const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
  const art = JSON.parse(fs.readFileSync(path.join(OUT, 'OracleAggregator.json'), 'utf8'));
  const provider = new ethers.JsonRpcProvider(process.env.RPC_URL || 'http://127.0.0.1:8545', undefined,
    { staticNetwork: true, batchMaxCount: 1 });
  const wallet = new ethers.Wallet(process.env.DEPLOYER_KEY || DEV_KEY0, provider);
  const factory = new ethers.ContractFactory(art.abi, art.bytecode, wallet);
  let nonce = await provider.getTransactionCount(wallet.address, 'pending');
  const fee = await provider.getFeeData();
  const sent = [];
  for (const [feed, tx] of rows) {
    const req = await factory.getDeployTransaction(8, feed, 0, 0, tx.split(','));
    req.nonce = nonce++;
    req.gasLimit = 3000000n;
    req.chainId = 138n;
    req.type = 0;
    req.gasPrice = fee.gasPrice * 2n;
    const signed = await wallet.signTransaction(req);
    sent.push(provider.send('eth_sendRawTransaction', [signed]));
  }
  const hashes = await Promise.all(sent);
  const out = [];
  for (const h of hashes) {
    const r = await provider.waitForTransaction(h, 1, 120000);
    if (!r || r.status !== 1) throw new Error(`deployment ${h} failed`);
    out.push(r.contractAddress);
  }
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(`deploy_many: ${e.shortMessage || e.message || e}`);
  process.exit(1);
});
