#!/usr/bin/env node
// Deploys COUNT OracleAggregators in one process (many-feed tests: deploy.js would start node once
// per feed) and prints one address per line. Each gets 8 decimals, description "F<i> / USD", no
// bounds, and TRANSMITTERS (a comma list: the signer's address, an OracleBatcher, Multicall3).
//   node deploy-feeds.js COUNT TRANSMITTERS
// Env: RPC_URL (default http://127.0.0.1:8545), DEPLOYER_KEY (default anvil's public dev key #0),
//      CONTRACTS_OUT (default <repo>/build/contracts; compile.js OracleAggregator first).
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require('ethers');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = process.env.CONTRACTS_OUT || path.join(ROOT, 'build', 'contracts');
const RPC_URL = process.env.RPC_URL || 'http://127.0.0.1:8545';
// anvil's well-known public development key #0 (never a real key).
const DEV_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

async function main() {
  const [countText, txText] = process.argv.slice(2);
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 500 || txText === undefined) {
    console.error('usage: deploy-feeds.js COUNT TRANSMITTERS (comma list)');
    process.exit(2);
  }
  const transmitters = txText.split(',').map((s) => s.trim()).filter((s) => s);
  for (const t of transmitters) if (!ethers.isAddress(t)) throw new Error(`not an address: ${t}`);
  const art = JSON.parse(fs.readFileSync(path.join(OUT, 'OracleAggregator.json'), 'utf8'));
  const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const wallet = new ethers.NonceManager(new ethers.Wallet(process.env.DEPLOYER_KEY || DEV_KEY0, provider));
  const factory = new ethers.ContractFactory(art.abi, art.bytecode, wallet);
  // Sent back to back (nonces from the NonceManager), then every receipt awaited.
  const sent = [];
  for (let i = 0; i < count; i++) sent.push(await factory.deploy(8, `F${i} / USD`, 0, 0, transmitters));
  for (const c of sent) {
    const r = await c.deploymentTransaction().wait(1, 120000);
    if (!r || r.status !== 1) throw new Error('a deployment failed');
  }
  for (const c of sent) console.log(await c.getAddress());
}

main().catch((e) => {
  console.error(`deploy-feeds: ${e.shortMessage || e.message || e}`);
  process.exit(1);
});
