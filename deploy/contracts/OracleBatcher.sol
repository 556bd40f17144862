// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;

/// @title OracleBatcher
/// @notice Many feeds in one transaction: calls `updateAnswer(int256)` on each of several
///         OracleAggregators, each call on its own, so one feed's revert does not sink the others.
/// @dev Each aggregator must list this contract as a transmitter (`setTransmitter(batcher, true)`);
///      only this contract's own transmitters may call `updateAnswers`, so the chain of permission
///      stays transmitter -> batcher -> aggregator (unlike Multicall3, which anyone may call: an
///      aggregator that trusted Multicall3 would take answers from anyone).
///      Returns one (success, returnData) per call, the shape of Multicall3's aggregate3 results,
///      and logs each failure with its revert data (`UpdateFailed`).
contract OracleBatcher {
  struct Result {
    bool success;
    bytes returnData;
  }

  bytes4 private constant UPDATE_ANSWER = bytes4(keccak256("updateAnswer(int256)"));

  /// @notice The owner: manages transmitters and ownership.
  address public owner;
  /// @notice The address a pending ownership transfer is waiting for (zero if none).
  address public pendingOwner;
  /// @notice Whether an address may call `updateAnswers`.
  mapping(address => bool) public isTransmitter;

  /// @notice One call of a batch reverted (the others went on).
  event UpdateFailed(uint256 indexed index, address indexed aggregator, bytes reason);
  event TransmitterSet(address indexed transmitter, bool allowed);
  event OwnershipTransferRequested(address indexed from, address indexed to);
  event OwnershipTransferred(address indexed from, address indexed to);

  error OnlyOwner();
  error OnlyPendingOwner();
  error NotTransmitter(address caller);
  error LengthMismatch(uint256 aggregators, uint256 answers);
  error InvalidAddress();

  modifier onlyOwner() {
    if (msg.sender != owner) revert OnlyOwner();
    _;
  }

  /// @param transmitters_ Initial transmitters (may be empty).
  constructor(address[] memory transmitters_) {
    owner = msg.sender;
    emit OwnershipTransferred(address(0), msg.sender);
    for (uint256 i = 0; i < transmitters_.length; i++) {
      _setTransmitter(transmitters_[i], true);
    }
  }

  /// @notice Sets answers[i] on aggregators[i] for every i; a reverting call is reported, not fatal.
  /// @return results One (success, returnData) per call; returnData is the revert data on failure.
  function updateAnswers(address[] calldata aggregators, int256[] calldata answers)
    external
    returns (Result[] memory results)
  {
    if (!isTransmitter[msg.sender]) revert NotTransmitter(msg.sender);
    uint256 n = aggregators.length;
    if (answers.length != n) revert LengthMismatch(n, answers.length);
    results = new Result[](n);
    for (uint256 i = 0; i < n; i++) {
      (bool ok, bytes memory ret) = aggregators[i].call(abi.encodeWithSelector(UPDATE_ANSWER, answers[i]));
      // A call to an address without code "succeeds" with nothing done: report it as a failure.
      if (ok && aggregators[i].code.length == 0) ok = false;
      results[i] = Result(ok, ret);
      if (!ok) emit UpdateFailed(i, aggregators[i], ret);
    }
  }

  /// @notice Allows (true) or removes (false) a transmitter.
  function setTransmitter(address transmitter, bool allowed) external onlyOwner {
    _setTransmitter(transmitter, allowed);
  }

  /// @notice First step of an ownership transfer; `to` must call `acceptOwnership`.
  function transferOwnership(address to) external onlyOwner {
    if (to == address(0)) revert InvalidAddress();
    pendingOwner = to;
    emit OwnershipTransferRequested(owner, to);
  }

  /// @notice Second step of an ownership transfer, by the pending owner.
  function acceptOwnership() external {
    if (msg.sender != pendingOwner) revert OnlyPendingOwner();
    address old = owner;
    owner = msg.sender;
    pendingOwner = address(0);
    emit OwnershipTransferred(old, msg.sender);
  }

  function _setTransmitter(address transmitter, bool allowed) private {
    if (transmitter == address(0)) revert InvalidAddress();
    if (isTransmitter[transmitter] == allowed) return;
    isTransmitter[transmitter] = allowed;
    emit TransmitterSet(transmitter, allowed);
  }
}
