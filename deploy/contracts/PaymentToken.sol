// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title PaymentToken
/// @notice oraclebus's tokenized money for the Financial Tokenization service (issue 9): an OpenZeppelin
///         ERC-20 whose supply only an issuer's roles change. One token per currency; `decimals` is set
///         at deployment (tests use 6 and 18) and must be at least the currency's ISO 4217 minor units.
/// @dev Roles (OpenZeppelin AccessControl):
///      - DEFAULT_ADMIN_ROLE (the `admin` constructor argument) grants and revokes every role.
///      - MINTER_ROLE: `mint(to, amount)`.
///      - BURNER_ROLE: `burn(from, amount)`. The burner burns from its own balance freely; from any
///        other account it spends that account's allowance first, exactly as OpenZeppelin's
///        ERC20Burnable.burnFrom does (`_spendAllowance(from, burner, amount)` then `_burn`). A
///        customer redeems either by approving the burner or by transferring to an account the
///        burner controls. There is no unrestricted `burn(amount)`: holders cannot shrink the supply
///        behind the issuer's ledger.
///      The signatures are the ones Hyperledger FireFly's ERC-20 connector (firefly-tokens-erc20-erc721,
///      `supportedmethods.ts`) looks for in a pool's ABI: `mint(address,uint256)`,
///      `burn(address,uint256)` and, for transfers, `transferWithData(address,address,uint256,bytes)`
///      (preferred over `transferFrom`, which in OpenZeppelin 5 spends an allowance even when the
///      spender is the holder itself). Every supply change and move emits the standard
///      `Transfer(from, to, value)` (from = 0 for a mint, to = 0 for a burn).
contract PaymentToken is ERC20, AccessControl {
  bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
  bytes32 public constant BURNER_ROLE = keccak256("BURNER_ROLE");

  uint8 private immutable _decimals;

  error ZeroAdmin();

  /// @param name_ token name, e.g. "Euro Payment Token"
  /// @param symbol_ token symbol, e.g. "EURP"
  /// @param decimals_ decimals of the base unit (display only for ERC-20, but pinned per pool by users)
  /// @param admin holder of DEFAULT_ADMIN_ROLE (may grant and revoke MINTER_ROLE and BURNER_ROLE)
  /// @param minters initial holders of MINTER_ROLE
  /// @param burners initial holders of BURNER_ROLE
  constructor(
    string memory name_,
    string memory symbol_,
    uint8 decimals_,
    address admin,
    address[] memory minters,
    address[] memory burners
  ) ERC20(name_, symbol_) {
    if (admin == address(0)) revert ZeroAdmin();
    _decimals = decimals_;
    _grantRole(DEFAULT_ADMIN_ROLE, admin);
    for (uint256 i = 0; i < minters.length; i++) _grantRole(MINTER_ROLE, minters[i]);
    for (uint256 i = 0; i < burners.length; i++) _grantRole(BURNER_ROLE, burners[i]);
  }

  /// @inheritdoc ERC20
  function decimals() public view override returns (uint8) {
    return _decimals;
  }

  /// @notice Creates `amount` base units for `to`. Emits Transfer(0, to, amount).
  function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
    _mint(to, amount);
  }

  /// @notice Destroys `amount` base units of `from`. Emits Transfer(from, 0, amount).
  /// @dev From another account than the caller's, the caller's allowance is spent first (reverts
  ///      with ERC20InsufficientAllowance without it), as ERC20Burnable.burnFrom.
  function burn(address from, uint256 amount) external onlyRole(BURNER_ROLE) {
    if (from != _msgSender()) _spendAllowance(from, _msgSender(), amount);
    _burn(from, amount);
  }

  /// @notice Moves `amount` from `from` to `to`: the caller's own tokens without an allowance, anyone
  ///         else's with one (as transferFrom). `data` is carried for FireFly's connector and ignored.
  function transferWithData(address from, address to, uint256 amount, bytes calldata data) external returns (bool) {
    data;
    if (from != _msgSender()) _spendAllowance(from, _msgSender(), amount);
    _transfer(from, to, amount);
    return true;
  }
}
