// SPDX-License-Identifier: MIT
// CcipEventEmitter: a test fixture for ccip-tail. It emits the EXACT events of CCIP 1.5
// (EVM2EVMOnRamp.CCIPSendRequested, EVM2EVMOffRamp.ExecutionStateChanged, CommitStore.ReportAccepted),
// CCIP 1.6 (OnRamp.CCIPMessageSent, OffRamp.ExecutionStateChanged, OffRamp.CommitReportAccepted) and
// Router.MessageExecuted, with the struct layouts of Chainlink's Internal.sol (v1.5 ABI / v1.6.0 tag),
// so a log tailer can be tested on anvil without signed OCR commit reports. The integration test
// checks every topic0 against the official ABIs in @chainlink/contracts-ccip. Never deploy for real.
pragma solidity 0.8.24;

contract CcipEventEmitter {
    // ---- Client / Internal structs (field order is the ABI) ----
    struct EVMTokenAmount { address token; uint256 amount; }
    struct EVM2EVMMessage {
        uint64 sourceChainSelector; address sender; address receiver; uint64 sequenceNumber; uint256 gasLimit;
        bool strict; uint64 nonce; address feeToken; uint256 feeTokenAmount; bytes data;
        EVMTokenAmount[] tokenAmounts; bytes[] sourceTokenData; bytes32 messageId;
    }
    struct RampMessageHeader {
        bytes32 messageId; uint64 sourceChainSelector; uint64 destChainSelector; uint64 sequenceNumber; uint64 nonce;
    }
    struct EVM2AnyTokenTransfer {
        address sourcePoolAddress; bytes destTokenAddress; bytes extraData; uint256 amount; bytes destExecData;
    }
    struct EVM2AnyRampMessage {
        RampMessageHeader header; address sender; bytes data; bytes receiver; bytes extraArgs; address feeToken;
        uint256 feeTokenAmount; uint256 feeValueJuels; EVM2AnyTokenTransfer[] tokenAmounts;
    }
    struct TokenPriceUpdate { address sourceToken; uint224 usdPerToken; }
    struct GasPriceUpdate { uint64 destChainSelector; uint224 usdPerUnitGas; }
    struct PriceUpdates { TokenPriceUpdate[] tokenPriceUpdates; GasPriceUpdate[] gasPriceUpdates; }
    struct Interval { uint64 min; uint64 max; }
    struct CommitReport { PriceUpdates priceUpdates; Interval interval; bytes32 merkleRoot; }
    struct MerkleRoot {
        uint64 sourceChainSelector; bytes onRampAddress; uint64 minSeqNr; uint64 maxSeqNr; bytes32 merkleRoot;
    }
    enum MessageExecutionState { UNTOUCHED, IN_PROGRESS, SUCCESS, FAILURE }

    // ---- the events, exactly as declared by the CCIP contracts ----
    event CCIPSendRequested(EVM2EVMMessage message);
    event ExecutionStateChanged(
        uint64 indexed sequenceNumber, bytes32 indexed messageId, MessageExecutionState state, bytes returnData);
    event ReportAccepted(CommitReport report);
    event CCIPMessageSent(
        uint64 indexed destChainSelector, uint64 indexed sequenceNumber, EVM2AnyRampMessage message);
    event ExecutionStateChanged(
        uint64 indexed sourceChainSelector, uint64 indexed sequenceNumber, bytes32 indexed messageId,
        bytes32 messageHash, MessageExecutionState state, bytes returnData, uint256 gasUsed);
    event CommitReportAccepted(
        MerkleRoot[] blessedMerkleRoots, MerkleRoot[] unblessedMerkleRoots, PriceUpdates priceUpdates);
    event MessageExecuted(bytes32 messageId, uint64 sourceChainSelector, address offRamp, bytes32 calldataHash);

    // ---- v1.6 ----
    function send16(bytes32 id, uint64 src, uint64 dst, uint64 seq, bytes calldata data, uint256 amount) external {
        EVM2AnyTokenTransfer[] memory t = new EVM2AnyTokenTransfer[](amount > 0 ? 1 : 0);
        if (amount > 0) t[0] = EVM2AnyTokenTransfer(address(this), abi.encode(address(this)), "", amount, "");
        emit CCIPMessageSent(dst, seq, EVM2AnyRampMessage(
            RampMessageHeader(id, src, dst, seq, 0), msg.sender, data, abi.encode(msg.sender),
            hex"181dcf10", address(0), 1e15, 1e16, t));
    }

    function commit16(uint64 src, address onRamp, uint64 min, uint64 max, bytes32 root) external {
        MerkleRoot[] memory blessed = new MerkleRoot[](1);
        blessed[0] = MerkleRoot(src, abi.encode(onRamp), min, max, root);
        emit CommitReportAccepted(blessed, new MerkleRoot[](0),
            PriceUpdates(new TokenPriceUpdate[](0), new GasPriceUpdate[](0)));
    }

    function exec16(uint64 src, uint64 seq, bytes32 id, uint8 state, bytes calldata ret) external {
        emit ExecutionStateChanged(src, seq, id, keccak256(abi.encode(id)), MessageExecutionState(state), ret, 50000);
    }

    // ---- v1.5 ----
    function send15(bytes32 id, uint64 src, uint64 seq, bytes calldata data) external {
        emit CCIPSendRequested(EVM2EVMMessage(src, msg.sender, msg.sender, seq, 200000, false, seq, address(0),
            1e15, data, new EVMTokenAmount[](0), new bytes[](0), id));
    }

    function commit15(uint64 min, uint64 max, bytes32 root) external {
        emit ReportAccepted(CommitReport(PriceUpdates(new TokenPriceUpdate[](0), new GasPriceUpdate[](0)),
            Interval(min, max), root));
    }

    function exec15(uint64 seq, bytes32 id, uint8 state, bytes calldata ret) external {
        emit ExecutionStateChanged(seq, id, MessageExecutionState(state), ret);
    }

    // ---- Router ----
    function routerExecuted(bytes32 id, uint64 src) external {
        emit MessageExecuted(id, src, msg.sender, keccak256(abi.encode(id)));
    }

    // ---- anything: a log with the given topic0 and data (undecodable-log tests) ----
    function raw(bytes32 topic0, bytes calldata data) external {
        bytes memory d = data;
        assembly { log1(add(d, 32), mload(d), topic0) }
    }
}
