// Shared helpers for the real CCIP 1.6 send side (tests/chain/ccip): the official ABIs and creation
// bytecode that npm @chainlink/contracts-ccip 1.6.4 ships under abi/ and bytecode/, the provider and
// the signer (anvil's public dev key #0 unless DEPLOYER_KEY says otherwise), and the selectors.
'use strict';
const fs = require('fs');
const path = require('path');

const NM = path.resolve(__dirname, '..', 'node_modules');
const { ethers } = require(path.join(NM, 'ethers'));
const PKG = path.join(NM, '@chainlink', 'contracts-ccip');

// anvil's well-known public development key #0 (never a real key).
const DEV_KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

// Chain 138 has no official CCIP chain selector (smartcontractkit/chain-selectors lists none): this is
// a TEST selector of our own ("138" at both ends, > 2^63 on purpose so that unsigned 64-bit handling is
// exercised). The destination is Ethereum mainnet's official selector; nothing is deployed there.
const LOCAL_SELECTOR = process.env.CCIP_LOCAL_SELECTOR || '13800000000000000138';
const DEST_SELECTOR = process.env.CCIP_DEST_SELECTOR || '5009297550715157269';

function abi(rel) { return JSON.parse(fs.readFileSync(path.join(PKG, 'abi', rel + '.json'), 'utf8')); }
function bin(rel) { return fs.readFileSync(path.join(PKG, 'bytecode', rel + '.bin'), 'utf8').trim(); }

// name -> [abi/bytecode path] of every official contract used.
const OFFICIAL = {
  rmnRemote: 'v1_6_0/rmn_remote',
  tokenAdminRegistry: 'v1_5_0/token_admin_registry',
  nonceManager: 'v1_6_0/nonce_manager',
  feeQuoter: 'v1_6_0/fee_quoter',
  onRamp: 'v1_6_0/onramp',
  router: 'v1_2_0/router',
  link: 'v1_5_1/factory_burn_mint_erc20',
};

function iface(name) { return new ethers.Interface(abi(OFFICIAL[name])); }

function signer() {
  const provider = new ethers.JsonRpcProvider(process.env.RPC_URL || 'http://127.0.0.1:8545', undefined,
    { staticNetwork: true, polling: false, batchMaxCount: 1 });
  provider.pollingInterval = 50;
  return new ethers.NonceManager(new ethers.Wallet(process.env.DEPLOYER_KEY || DEV_KEY0, provider));
}

// Client.EVMExtraArgsV2 / GenericExtraArgsV2: tag 0x181dcf10 ++ abi.encode(uint256 gasLimit, bool ooo).
function extraArgsV2(gasLimit, allowOutOfOrderExecution) {
  return '0x181dcf10' + ethers.AbiCoder.defaultAbiCoder()
    .encode(['uint256', 'bool'], [BigInt(gasLimit), !!allowOutOfOrderExecution]).slice(2);
}
// Client.EVMExtraArgsV1: tag 0x97a657c9 ++ abi.encode(uint256 gasLimit).
function extraArgsV1(gasLimit) {
  return '0x97a657c9' + ethers.AbiCoder.defaultAbiCoder().encode(['uint256'], [BigInt(gasLimit)]).slice(2);
}

// A revert's data decoded against every official ABI used (the first that knows the selector).
function decodeRevert(data) {
  if (!data || data === '0x') return 'revert without data';
  for (const name of Object.keys(OFFICIAL)) {
    try {
      const e = iface(name).parseError(data);
      if (e) return `${name}: ${e.signature} ${JSON.stringify(e.args.toArray(), (k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    } catch (err) { /* next */ }
  }
  return `unknown revert ${data}`;
}

function revertData(err) {
  return err?.data || err?.info?.error?.data || err?.error?.data || err?.revert?.data || null;
}

module.exports = {
  ethers, NM, PKG, DEV_KEY0, LOCAL_SELECTOR, DEST_SELECTOR, OFFICIAL, abi, bin, iface, signer,
  extraArgsV1, extraArgsV2, decodeRevert, revertData,
};
