#!/usr/bin/env node
// Compiles the contracts the tests and the demo deploy, with solc-js from this folder's node_modules,
// into <repo>/build/contracts/<Name>.json = {contractName, abi, bytecode, deployedBytecode, compiler,
// evmVersion, sources}. A contract is skipped when its output is newer than every source it was built
// from (listed in the output) and than this script and the lock file. Usage:
//   node compile.js [--force] [Name...]        (default: every contract below)
// Env: CONTRACTS_OUT (default <repo>/build/contracts).
'use strict';
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..', '..');
const NM = path.join(HERE, 'node_modules');
const OUT = process.env.CONTRACTS_OUT || path.join(ROOT, 'build', 'contracts');

// evmVersion "paris" (no PUSH0): runs on anvil and on Besu-style networks that lack Shanghai.
const CONTRACTS = [
  {
    name: 'OracleAggregator',
    solc: 'solc',
    unit: 'deploy/contracts/OracleAggregator.sol',
    file: path.join(ROOT, 'deploy/contracts/OracleAggregator.sol'),
    evmVersion: 'paris',
  },
  {
    // Many feeds per transaction (issue 12): updateAnswers over several OracleAggregators.
    name: 'OracleBatcher',
    solc: 'solc',
    unit: 'deploy/contracts/OracleBatcher.sol',
    evmVersion: 'paris',
  },
  {
    // The standard Multicall3 (mds1/multicall, as vendored by Chainlink): aggregate3 batches;
    // tools/chain.sh deploy-multicall3 puts it at its canonical address on anvil.
    name: 'Multicall3',
    solc: 'solc',
    unit: '@chainlink/contracts/src/v0.8/vendor/multicall/ebd8b64/src/Multicall3.sol',
    evmVersion: 'paris',
  },
  {
    // ccip-tail's test fixture (issue 4): the exact CCIP 1.5/1.6/Router events.
    name: 'CcipEventEmitter',
    solc: 'solc',
    unit: 'deploy/contracts/test/CcipEventEmitter.sol',
    evmVersion: 'paris',
  },
  {
    // The Financial Tokenization service's ERC-20 (issue 9): OpenZeppelin 5 ERC20 + AccessControl.
    name: 'PaymentToken',
    solc: 'solc',
    unit: 'deploy/contracts/PaymentToken.sol',
    evmVersion: 'paris',
  },
  {
    name: 'MockV3Aggregator',
    solc: 'solc',
    unit: '@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol',
    evmVersion: 'paris',
  },
  {
    name: 'FluxAggregator',
    solc: 'solc-0.6.6',
    unit: 'chainlink-contracts-0.8/src/v0.6/FluxAggregator.sol',
    evmVersion: 'istanbul',
  },
];

// Source unit name -> file: deploy/... under the repo root, everything else under node_modules.
function resolveUnit(unit) {
  if (unit.startsWith('deploy/')) return path.join(ROOT, unit);
  return path.join(NM, unit);
}

function mtime(p) {
  try { return fs.statSync(p).mtimeMs; } catch (e) { return Infinity; }
}

function upToDate(c, outFile) {
  let prev;
  try { prev = JSON.parse(fs.readFileSync(outFile, 'utf8')); } catch (e) { return false; }
  const t = fs.statSync(outFile).mtimeMs;
  const inputs = [__filename, path.join(HERE, 'package-lock.json')]
    .concat((prev.sources || []).map(resolveUnit));
  if (!prev.sources || prev.sources.length === 0) return false;
  return inputs.every((p) => mtime(p) < t);
}

function compile(c) {
  const solc = require(path.join(NM, c.solc));
  const input = {
    language: 'Solidity',
    sources: { [c.unit]: { content: fs.readFileSync(resolveUnit(c.unit), 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: c.evmVersion,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const used = new Set([c.unit]);
  const findImports = (unit) => {
    const p = resolveUnit(unit);
    try {
      const contents = fs.readFileSync(p, 'utf8');
      used.add(unit);
      return { contents };
    } catch (e) {
      return { error: `not found: ${unit} (looked at ${p})` };
    }
  };
  let raw;
  try {
    raw = solc.compile(JSON.stringify(input), { import: findImports });
  } catch (e) {
    // Older solc-js wrappers take the import callback directly.
    raw = solc.compile(JSON.stringify(input), findImports);
  }
  const out = JSON.parse(raw);
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  // Our own sources must compile without warnings worth reading; show them.
  for (const e of out.errors || []) {
    const f = e.sourceLocation && e.sourceLocation.file;
    if (e.severity !== 'error' && f && f.startsWith('deploy/')) console.error(e.formattedMessage);
  }
  if (errors.length) {
    throw new Error(`${c.name}: compile failed\n` + errors.map((e) => e.formattedMessage).join('\n'));
  }
  const art = out.contracts[c.unit] && out.contracts[c.unit][c.name];
  if (!art) throw new Error(`${c.name}: no contract ${c.name} in ${c.unit}`);
  return {
    contractName: c.name,
    abi: art.abi,
    bytecode: '0x' + art.evm.bytecode.object,
    deployedBytecode: '0x' + art.evm.deployedBytecode.object,
    compiler: solc.version(),
    evmVersion: c.evmVersion,
    sources: Array.from(used).sort(),
  };
}

function main() {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const names = args.filter((a) => a !== '--force');
  const want = names.length ? CONTRACTS.filter((c) => names.includes(c.name)) : CONTRACTS;
  if (names.length && want.length !== names.length) {
    console.error(`compile: unknown contract in ${names.join(' ')}; known: ${CONTRACTS.map((c) => c.name).join(' ')}`);
    process.exit(2);
  }
  if (!fs.existsSync(NM)) {
    console.error(`compile: ${NM} is missing; run \`make deps\` (npm ci in tests/chain) first`);
    process.exit(1);
  }
  fs.mkdirSync(OUT, { recursive: true });
  for (const c of want) {
    const outFile = path.join(OUT, c.name + '.json');
    if (!force && upToDate(c, outFile)) {
      console.error(`compile: ${c.name} up to date`);
      continue;
    }
    const t0 = Date.now();
    const art = compile(c);
    const tmp = outFile + '.tmp' + process.pid;
    fs.writeFileSync(tmp, JSON.stringify(art, null, 1) + '\n');
    fs.renameSync(tmp, outFile);
    console.error(`compile: ${c.name} (${art.compiler}, ${c.evmVersion}) -> ${path.relative(ROOT, outFile)} in ${Date.now() - t0} ms`);
  }
}

try {
  main();
} catch (e) {
  console.error(e.message || e);
  process.exit(1);
}
