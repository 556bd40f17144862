// ethers_sign.js - the Node.js baseline for transaction signing: ethers v6 Wallet.signTransaction of
// the same update call the signer makes (updateAnswer(int256), legacy EIP-155, chain id 138, anvil's
// public dev key #1). Prints one line: "<tx per second> <last raw tx>".
const path = require('path');
const { Wallet, Interface } = require(path.join(__dirname, '../chain/node_modules/ethers'));
const n = parseInt(process.argv[2] || '3000', 10);
const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const iface = new Interface(['function updateAnswer(int256)']);
const to = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
(async () => {
  let raw = '';
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    raw = await wallet.signTransaction({
      type: 0, chainId: 138, nonce: i, gasPrice: 0n, gasLimit: 200000n, to, value: 0n,
      data: iface.encodeFunctionData('updateAnswer', [300000000000n + BigInt(i)]),
    });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${(n / secs).toFixed(0)} ${raw}`);
})();
