#!/usr/bin/env node
// Deploys <repo>/build/contracts/<Name>.json (from compile.js) and prints the new address on stdout.
//   node deploy.js NAME [constructor args...]
// Arguments are read by the constructor's ABI types: integers in decimal or 0x-hex, bool as
// true/false, arrays as JSON ('["0xabc...","0xdef..."]'), cast-style ('[0xabc,0xdef]') or comma lists
// ('0xabc,0xdef'; '' or [] is empty), everything else as given.
// Env: RPC_URL (default http://127.0.0.1:8545), DEPLOYER_KEY (default anvil's public dev key #0),
//      CONTRACTS_OUT (default <repo>/build/contracts).
'use strict';
const fs = require('fs');
const path = require('path');
const { ethers } = require('ethers');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = process.env.CONTRACTS_OUT || path.join(ROOT, 'build', 'contracts');
const RPC_URL = process.env.RPC_URL || 'http://127.0.0.1:8545';
// anvil's well-known public development key #0 (never a real key).
const DEV_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

function convert(param, s) {
  const t = param.type;
  if (t.endsWith(']')) {
    const inner = param.arrayChildren;
    let items;
    const v = s.trim();
    if (v === '' || v === '[]') items = [];
    else if (v.startsWith('[') && v.endsWith(']')) {
      try {
        items = JSON.parse(v).map(String);
      } catch (e) {
        items = v.slice(1, -1).split(',');  // [0xabc,0xdef] as cast writes it
      }
    } else items = v.split(',');
    return items.map((x) => convert(inner, x.trim()));
  }
  if (/^u?int\d*$/.test(t)) {
    if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw new Error(`not an integer for ${param.name} (${t}): ${s}`);
    return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  }
  if (t === 'bool') {
    if (s !== 'true' && s !== 'false') throw new Error(`not a bool for ${param.name}: ${s}`);
    return s === 'true';
  }
  return s;
}

async function main() {
  const [name, ...args] = process.argv.slice(2);
  if (!name) {
    console.error('usage: deploy.js NAME [constructor args...]');
    process.exit(2);
  }
  const file = path.join(OUT, name + '.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run tools/chain.sh compile first`);
  const art = JSON.parse(fs.readFileSync(file, 'utf8'));
  const factoryIface = new ethers.Interface(art.abi);
  const inputs = factoryIface.deploy.inputs;
  if (inputs.length !== args.length) {
    const sig = inputs.map((p) => `${p.type} ${p.name}`).join(', ');
    throw new Error(`${name} constructor takes ${inputs.length} argument(s) (${sig}), got ${args.length}`);
  }
  const values = inputs.map((p, i) => convert(p, args[i]));
  const provider = new ethers.JsonRpcProvider(RPC_URL, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const wallet = new ethers.Wallet(process.env.DEPLOYER_KEY || DEV_KEY0, provider);
  const factory = new ethers.ContractFactory(art.abi, art.bytecode, wallet);
  const contract = await factory.deploy(...values);
  const receipt = await contract.deploymentTransaction().wait(1, 60000);
  if (!receipt || receipt.status !== 1) throw new Error(`${name}: deployment failed`);
  console.log(await contract.getAddress());
}

main().catch((e) => {
  console.error(`deploy: ${e.shortMessage || e.message || e}`);
  process.exit(1);
});
