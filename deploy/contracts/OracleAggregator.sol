// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title OracleAggregator
/// @notice oraclebus's own price feed: a Chainlink-compatible aggregator (AggregatorV3Interface) whose
///         answers are written by an allowlist of transmitters, one round per update.
/// @dev Every successful `updateAnswer` opens and closes a round at once: roundId = previous + 1,
///      startedAt = updatedAt = block.timestamp, answeredInRound = roundId. It emits Chainlink's
///      `NewRound` and then `AnswerUpdated`, in that order, as FluxAggregator does.
///      Before the first update, `latestRoundData` returns all zeros (updatedAt == 0 means "no answer
///      yet"); `getRoundData` of a round that does not exist reverts with `NoDataPresent`.
///      Answers may be bounded: `minAnswer`/`maxAnswer`; (0, 0) means unbounded.
///      Ownership is two-step (transferOwnership, then acceptOwnership by the new owner).
contract OracleAggregator is AggregatorV3Interface {
  struct Round {
    int256 answer;
    uint64 startedAt;
    uint64 updatedAt;
  }

  /// @notice Version of this contract's interface and behaviour.
  uint256 public constant override version = 1;

  /// @inheritdoc AggregatorV3Interface
  uint8 public immutable override decimals;

  /// @inheritdoc AggregatorV3Interface
  string public override description;

  /// @notice The owner: manages transmitters, bounds and ownership.
  address public owner;
  /// @notice The address a pending ownership transfer is waiting for (zero if none).
  address public pendingOwner;

  /// @notice Lowest answer accepted (inclusive); with maxAnswer == 0 too, no bounds at all.
  int256 public minAnswer;
  /// @notice Highest answer accepted (inclusive); with minAnswer == 0 too, no bounds at all.
  int256 public maxAnswer;

  /// @notice Whether an address may call `updateAnswer`.
  mapping(address => bool) public isTransmitter;
  address[] private s_transmitters;

  /// @notice Id of the latest round (0 before the first update).
  uint80 public latestRound;
  mapping(uint256 => Round) private s_rounds;

  /// @notice Chainlink AggregatorInterface event: a round's answer was set.
  event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
  /// @notice Chainlink AggregatorInterface event: a round was started.
  event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);
  /// @notice A transmitter was allowed (true) or removed (false).
  event TransmitterSet(address indexed transmitter, bool allowed);
  /// @notice The answer bounds changed.
  event AnswerBoundsSet(int256 minAnswer, int256 maxAnswer);
  event OwnershipTransferRequested(address indexed from, address indexed to);
  event OwnershipTransferred(address indexed from, address indexed to);

  error OnlyOwner();
  error OnlyPendingOwner();
  error NotTransmitter(address caller);
  error AnswerOutOfBounds(int256 answer, int256 minAnswer, int256 maxAnswer);
  error InvalidBounds(int256 minAnswer, int256 maxAnswer);
  error InvalidAddress();
  error NoDataPresent();

  modifier onlyOwner() {
    if (msg.sender != owner) revert OnlyOwner();
    _;
  }

  /// @param decimals_ Decimals of every answer (Chainlink USD feeds use 8).
  /// @param description_ Feed name, e.g. "ETH / USD".
  /// @param minAnswer_ Lowest accepted answer; (0, 0) for no bounds.
  /// @param maxAnswer_ Highest accepted answer; (0, 0) for no bounds.
  /// @param transmitters_ Initial transmitters (may be empty).
  constructor(
    uint8 decimals_,
    string memory description_,
    int256 minAnswer_,
    int256 maxAnswer_,
    address[] memory transmitters_
  ) {
    decimals = decimals_;
    description = description_;
    owner = msg.sender;
    emit OwnershipTransferred(address(0), msg.sender);
    _setBounds(minAnswer_, maxAnswer_);
    for (uint256 i = 0; i < transmitters_.length; i++) {
      _setTransmitter(transmitters_[i], true);
    }
  }

  // ---------------------------------------------------------------------------------------- updates

  /// @notice Records a new answer in a new round. Only transmitters may call it.
  /// @param answer The answer, scaled by 10**decimals.
  /// @return roundId The id of the new round.
  function updateAnswer(int256 answer) external returns (uint80 roundId) {
    if (!isTransmitter[msg.sender]) revert NotTransmitter(msg.sender);
    int256 lo = minAnswer;
    int256 hi = maxAnswer;
    if ((lo != 0 || hi != 0) && (answer < lo || answer > hi)) revert AnswerOutOfBounds(answer, lo, hi);

    roundId = latestRound + 1;
    latestRound = roundId;
    s_rounds[roundId] = Round({answer: answer, startedAt: uint64(block.timestamp), updatedAt: uint64(block.timestamp)});

    emit NewRound(roundId, msg.sender, block.timestamp);
    emit AnswerUpdated(answer, roundId, block.timestamp);
  }

  // ------------------------------------------------------------------------------------------ reads

  /// @inheritdoc AggregatorV3Interface
  function getRoundData(
    uint80 roundId_
  ) external view override returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound) {
    Round memory r = s_rounds[roundId_];
    if (r.updatedAt == 0) revert NoDataPresent();
    return (roundId_, r.answer, r.startedAt, r.updatedAt, roundId_);
  }

  /// @inheritdoc AggregatorV3Interface
  /// @dev All zeros before the first update.
  function latestRoundData()
    external
    view
    override
    returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
  {
    roundId = latestRound;
    Round memory r = s_rounds[roundId];
    return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
  }

  /// @notice The current transmitters, in the order they were added (removal swaps the last in).
  function getTransmitters() external view returns (address[] memory) {
    return s_transmitters;
  }

  // ------------------------------------------------------------------------------------------ admin

  /// @notice Allows (true) or removes (false) a transmitter.
  function setTransmitter(address transmitter, bool allowed) external onlyOwner {
    _setTransmitter(transmitter, allowed);
  }

  /// @notice Sets the inclusive answer bounds; (0, 0) removes them.
  function setAnswerBounds(int256 minAnswer_, int256 maxAnswer_) external onlyOwner {
    _setBounds(minAnswer_, maxAnswer_);
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

  // --------------------------------------------------------------------------------------- internal

  function _setTransmitter(address transmitter, bool allowed) private {
    if (transmitter == address(0)) revert InvalidAddress();
    if (isTransmitter[transmitter] == allowed) return;
    isTransmitter[transmitter] = allowed;
    if (allowed) {
      s_transmitters.push(transmitter);
    } else {
      uint256 n = s_transmitters.length;
      for (uint256 i = 0; i < n; i++) {
        if (s_transmitters[i] == transmitter) {
          s_transmitters[i] = s_transmitters[n - 1];
          s_transmitters.pop();
          break;
        }
      }
    }
    emit TransmitterSet(transmitter, allowed);
  }

  function _setBounds(int256 minAnswer_, int256 maxAnswer_) private {
    if (minAnswer_ > maxAnswer_) revert InvalidBounds(minAnswer_, maxAnswer_);
    minAnswer = minAnswer_;
    maxAnswer = maxAnswer_;
    emit AnswerBoundsSet(minAnswer_, maxAnswer_);
  }
}
