// ccip_ethers_parse.js - the Node.js baseline for ccip-tail's decoder: ethers v6 Interface.parseLog over the
// logs of one recorded eth_getLogs response, with the 7 CCIP event ABIs (ccip_abi.js). The file is read
// and JSON.parse'd outside the timing (that only favours ethers). One warm-up pass, then `runs` timed
// passes; prints "<logs/s of the best pass> <logs parsed> <logs in file>".
//
//   node tests/bench/ccip_ethers_parse.js LOGS.json [runs=5]
const fs = require('fs');
const path = require('path');
const { Interface } = require(path.join(__dirname, '../chain/node_modules/ethers'));
const ABI = require('./ccip_abi.js');

const file = process.argv[2];
const runs = parseInt(process.argv[3] || '5', 10);
const logs = JSON.parse(fs.readFileSync(file, 'utf8')).result;
const iface = new Interface(ABI);

function pass() {
  let parsed = 0, sink = 0;
  for (const l of logs) {
    const d = iface.parseLog({ topics: l.topics, data: l.data });
    if (d) {
      parsed++;
      sink += d.args.length; // touch the result
    }
  }
  return [parsed, sink];
}
let [parsed] = pass();
let best = Infinity;
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  [parsed] = pass();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s < best) best = s;
}
console.log(`${(logs.length / best).toFixed(0)} ${parsed} ${logs.length}`);
