#!/usr/bin/env node
// Deploys and wires the REAL CCIP 1.6 send side on a local chain (anvil, chain id 138) from the creation
// bytecode and ABIs that npm @chainlink/contracts-ccip 1.6.4 ships (bytecode/vX_Y_Z/*.bin,
// abi/vX_Y_Z/*.json), and prints the addresses as one JSON object on stdout:
//   WETH9 (canonical-weth, compiled here with solc-js), LINK (BurnMintERC20 1.5.1, fee-token stand-in),
//   RMNRemote 1.6.0, TokenAdminRegistry 1.5.0, NonceManager 1.6.0, FeeQuoter 1.6.0, Router 1.2.0,
//   OnRamp 1.6.0.
// Layouts: constructor/config structs from the shipped v1_6_0 ABIs (the bytecode's own) and the Solidity
// sources under contracts/ (OnRamp.sol, FeeQuoter.sol, Router.sol, NonceManager.sol, rmn/RMNRemote.sol).
//   node deploy_send_side.js [--send]     --send: one smoke ccipSend (native fee) and its log, on stderr
// Env: RPC_URL (http://127.0.0.1:8545), DEPLOYER_KEY (anvil dev key #0), CCIP_LOCAL_SELECTOR,
//      CCIP_DEST_SELECTOR (lib.js: the chosen test selectors).
'use strict';
const fs = require('fs');
const path = require('path');
const L = require('./lib');
const { ethers } = L;

function compileWeth9() {
  const solc = require(path.join(L.NM, 'solc'));
  const unit = '@chainlink/contracts/src/v0.8/vendor/canonical-weth/WETH9.sol';
  const input = {
    language: 'Solidity',
    sources: { [unit]: { content: fs.readFileSync(path.join(L.NM, unit), 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 }, evmVersion: 'paris',
      outputSelection: { '*': { WETH9: ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errs = (out.errors || []).filter((e) => e.severity === 'error');
  if (errs.length) throw new Error(errs.map((e) => e.formattedMessage).join('\n'));
  const c = out.contracts[unit].WETH9;
  return { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
}

const gasUsed = {};
async function deploy(w, label, abi, bytecode, args) {
  const f = new ethers.ContractFactory(abi, bytecode, w);
  let c;
  try {
    c = await f.deploy(...args);
  } catch (e) {
    throw new Error(`deploy ${label} failed: ${L.decodeRevert(L.revertData(e))} (${e.shortMessage || e.message})`);
  }
  const rc = await c.deploymentTransaction().wait();
  gasUsed[label] = Number(rc.gasUsed);
  return c;
}

async function send(label, p) {
  let tx;
  try {
    tx = await p;
  } catch (e) {
    throw new Error(`${label} reverted: ${L.decodeRevert(L.revertData(e))} (${e.shortMessage || e.message})`);
  }
  const rc = await tx.wait();
  if (rc.status !== 1) throw new Error(`${label}: status ${rc.status}`);
  gasUsed[label] = Number(rc.gasUsed);
  return rc;
}

async function main() {
  const smoke = process.argv.includes('--send');
  const w = L.signer();
  const me = await w.getAddress();
  const net = await w.provider.getNetwork();
  const LOCAL = BigInt(L.LOCAL_SELECTOR), DEST = BigInt(L.DEST_SELECTOR);

  // Wrapped native: the Router wraps msg.value into it for native fees (Router.ccipSend).
  const wethArt = compileWeth9();
  const weth = await deploy(w, 'WETH9', wethArt.abi, wethArt.bytecode, []);
  // LINK stand-in: FeeQuoter needs a LINK token to express fees in juels (processMessageArgs).
  const link = await deploy(w, 'LINK', L.abi(L.OFFICIAL.link), L.bin(L.OFFICIAL.link),
    ['ChainLink Token (test)', 'LINK', 18, 0, 0, me]);

  // RMNRemote(localChainSelector, legacyRMN): nothing cursed; legacyRMN unused (0).
  const rmn = await deploy(w, 'RMNRemote', L.abi(L.OFFICIAL.rmnRemote), L.bin(L.OFFICIAL.rmnRemote),
    [LOCAL, ethers.ZeroAddress]);
  const tar = await deploy(w, 'TokenAdminRegistry', L.abi(L.OFFICIAL.tokenAdminRegistry),
    L.bin(L.OFFICIAL.tokenAdminRegistry), []);
  // NonceManager(authorizedCallers): the OnRamp is added once it exists.
  const nm = await deploy(w, 'NonceManager', L.abi(L.OFFICIAL.nonceManager), L.bin(L.OFFICIAL.nonceManager), [[]]);

  // FeeQuoter: static (maxFeeJuelsPerMsg, linkToken, tokenPriceStalenessThreshold), price updaters = us,
  // fee tokens WETH and LINK, no feeds, no token-transfer configs, premium multipliers, one EVM dest.
  const destChainConfig = {
    isEnabled: true,
    maxNumberOfTokensPerMsg: 1,
    maxDataBytes: 30000,
    maxPerMsgGasLimit: 3000000,
    destGasOverhead: 300000,
    destGasPerPayloadByteBase: 16,
    destGasPerPayloadByteHigh: 40,
    destGasPerPayloadByteThreshold: 3000,
    destDataAvailabilityOverheadGas: 0,
    destGasPerDataAvailabilityByte: 0,
    destDataAvailabilityMultiplierBps: 0,  // no L1 data-availability fee (an L1-like destination)
    chainFamilySelector: '0x2812d52c',     // Internal.CHAIN_FAMILY_SELECTOR_EVM
    enforceOutOfOrder: false,
    defaultTokenFeeUSDCents: 25,
    defaultTokenDestGasOverhead: 90000,
    defaultTxGasLimit: 200000,
    gasMultiplierWeiPerEth: 1100000000000000000n,  // 1.1x
    gasPriceStalenessThreshold: 0,                 // 0 = prices never stale on a test chain
    networkFeeUSDCents: 50,
  };
  const fq = await deploy(w, 'FeeQuoter', L.abi(L.OFFICIAL.feeQuoter), L.bin(L.OFFICIAL.feeQuoter), [
    { maxFeeJuelsPerMsg: 10n ** 27n, linkToken: await link.getAddress(), tokenPriceStalenessThreshold: 90000 },
    [me],
    [await weth.getAddress(), await link.getAddress()],
    [],
    [],
    [{ token: await weth.getAddress(), premiumMultiplierWeiPerEth: 5n * 10n ** 17n },
      { token: await link.getAddress(), premiumMultiplierWeiPerEth: 9n * 10n ** 17n }],
    [{ destChainSelector: DEST, destChainConfig }],
  ]);
  // Prices (USD with 18 decimals per 1e18 smallest units): ETH 3000, LINK 20; dest gas 20 gwei at
  // ETH 3000 = 6e-5 USD per gas = 6e13 (the low 112 bits: execution gas; high bits: DA gas, 0).
  await send('FeeQuoter.updatePrices', fq.updatePrices({
    tokenPriceUpdates: [{ sourceToken: await weth.getAddress(), usdPerToken: 3000n * 10n ** 18n },
      { sourceToken: await link.getAddress(), usdPerToken: 20n * 10n ** 18n }],
    gasPriceUpdates: [{ destChainSelector: DEST, usdPerUnitGas: 6n * 10n ** 13n }],
  }));

  // Router 1.2.0(wrappedNative, armProxy): ccipSend's whenNotCursed calls IRMN(armProxy).isCursed(),
  // which RMNRemote 1.6 implements (global curse subject); 1.6 deployments point it at an RMNProxy in
  // front of RMNRemote, the proxy being a pure forwarder, so the RMNRemote itself is used here.
  const router = await deploy(w, 'Router', L.abi(L.OFFICIAL.router), L.bin(L.OFFICIAL.router),
    [await weth.getAddress(), await rmn.getAddress()]);

  // OnRamp: static (chainSelector, rmnRemote, nonceManager, tokenAdminRegistry); dynamic (feeQuoter,
  // reentrancyGuardEntered=false, messageInterceptor=0, feeAggregator=us, allowlistAdmin=us); dest
  // chain config (DEST, router, no allowlist).
  const onRamp = await deploy(w, 'OnRamp', L.abi(L.OFFICIAL.onRamp), L.bin(L.OFFICIAL.onRamp), [
    { chainSelector: LOCAL, rmnRemote: await rmn.getAddress(), nonceManager: await nm.getAddress(),
      tokenAdminRegistry: await tar.getAddress() },
    { feeQuoter: await fq.getAddress(), reentrancyGuardEntered: false, messageInterceptor: ethers.ZeroAddress,
      feeAggregator: me, allowlistAdmin: me },
    [{ destChainSelector: DEST, router: await router.getAddress(), allowlistEnabled: false }],
  ]);

  // NonceManager: the OnRamp may bump outbound nonces (getIncrementedOutboundNonce).
  await send('NonceManager.applyAuthorizedCallerUpdates',
    nm.applyAuthorizedCallerUpdates({ addedCallers: [await onRamp.getAddress()], removedCallers: [] }));
  // Router: the OnRamp for DEST (no OffRamps: the receive side is the project's emitter).
  await send('Router.applyRampUpdates',
    router.applyRampUpdates([{ destChainSelector: DEST, onRamp: await onRamp.getAddress() }], [], []));

  const out = {
    chainId: Number(net.chainId),
    localChainSelector: LOCAL.toString(),
    destChainSelector: DEST.toString(),
    deployer: me,
    weth9: await weth.getAddress(),
    link: await link.getAddress(),
    rmnRemote: await rmn.getAddress(),
    tokenAdminRegistry: await tar.getAddress(),
    nonceManager: await nm.getAddress(),
    feeQuoter: await fq.getAddress(),
    router: await router.getAddress(),
    onRamp: await onRamp.getAddress(),
    typeAndVersion: {
      router: await router.typeAndVersion(), onRamp: await onRamp.typeAndVersion(),
      feeQuoter: await fq.typeAndVersion(), nonceManager: await nm.typeAndVersion(),
      rmnRemote: await rmn.typeAndVersion(), tokenAdminRegistry: await tar.typeAndVersion(),
    },
    gasUsed,
  };
  if (smoke) {
    const { ccipSend } = require('./send');
    const r = await ccipSend(w, out, { receiver: me, data: '0x68656c6c6f', extraArgs: '0x' });
    process.stderr.write(JSON.stringify(r) + '\n');
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(`deploy_send_side: ${e.message}`); process.exit(1); });
