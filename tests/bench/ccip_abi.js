// ccip_abi.js - the 7 CCIP event ABIs ccip-tail decodes, as ethers v6 human-readable fragments, with the
// struct layouts of Chainlink's Internal.sol (v1.5 ABI / v1.6.0), as in
// deploy/contracts/test/CcipEventEmitter.sol. Shared by the log generator and the ethers.js baseline.
const TPU = 'tuple(address sourceToken, uint224 usdPerToken)[] tokenPriceUpdates';
const GPU = 'tuple(uint64 destChainSelector, uint224 usdPerUnitGas)[] gasPriceUpdates';
const PU = `tuple(${TPU}, ${GPU})`;
const MR = 'tuple(uint64 sourceChainSelector, bytes onRampAddress, uint64 minSeqNr, uint64 maxSeqNr, bytes32 merkleRoot)';

module.exports = [
  'event CCIPSendRequested(tuple(uint64 sourceChainSelector, address sender, address receiver, uint64 sequenceNumber, ' +
    'uint256 gasLimit, bool strict, uint64 nonce, address feeToken, uint256 feeTokenAmount, bytes data, ' +
    'tuple(address token, uint256 amount)[] tokenAmounts, bytes[] sourceTokenData, bytes32 messageId) message)',
  'event ExecutionStateChanged(uint64 indexed sequenceNumber, bytes32 indexed messageId, uint8 state, bytes returnData)',
  `event ReportAccepted(tuple(${PU} priceUpdates, tuple(uint64 min, uint64 max) interval, bytes32 merkleRoot) report)`,
  'event CCIPMessageSent(uint64 indexed destChainSelector, uint64 indexed sequenceNumber, ' +
    'tuple(tuple(bytes32 messageId, uint64 sourceChainSelector, uint64 destChainSelector, uint64 sequenceNumber, ' +
    'uint64 nonce) header, address sender, bytes data, bytes receiver, bytes extraArgs, address feeToken, ' +
    'uint256 feeTokenAmount, uint256 feeValueJuels, tuple(address sourcePoolAddress, bytes destTokenAddress, ' +
    'bytes extraData, uint256 amount, bytes destExecData)[] tokenAmounts) message)',
  'event ExecutionStateChanged(uint64 indexed sourceChainSelector, uint64 indexed sequenceNumber, ' +
    'bytes32 indexed messageId, bytes32 messageHash, uint8 state, bytes returnData, uint256 gasUsed)',
  `event CommitReportAccepted(${MR}[] blessedMerkleRoots, ${MR}[] unblessedMerkleRoots, ${PU} priceUpdates)`,
  'event MessageExecuted(bytes32 messageId, uint64 sourceChainSelector, address offRamp, bytes32 calldataHash)',
];
