// keystore.js - writes a Web3 Secret Storage v3 keystore with ethers.js (Wallet.encrypt, or encryptKeystoreJson with a given scrypt n),
// an independent implementation of the format chain/keystore.c reads.
//   node keystore.js <private key hex> <password> <out.json> [scrypt n]
// Prints the key's address (EIP-55) on stdout.
const fs = require('fs');
const { Wallet, encryptKeystoreJson } = require('ethers');

async function main() {
	const [key, password, out, n] = process.argv.slice(2);
	if (!key || password === undefined || !out) {
		console.error('usage: node keystore.js <private key hex> <password> <out.json> [scrypt n]');
		process.exit(2);
	}
	const w = new Wallet(key.startsWith('0x') ? key : '0x' + key);
	// Wallet.encrypt is ethers' default (scrypt n = 131072); a smaller n only to keep tests fast.
	const json = n ? await encryptKeystoreJson(w, password, { scrypt: { N: Number(n) } })
		: await w.encrypt(password);
	fs.writeFileSync(out, json, { mode: 0o600 });
	console.log(w.address);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
