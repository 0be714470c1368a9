// SPDX-License-Identifier: MIT
// An ERC-20 for devnets and tests: anyone may mint, so a devnet faucet is one call. In
// production a coordinator names any ERC-20 instead; nothing in Hansa depends on this one.
// It takes ERC-2612 permits (as USDC and DAI do), so a subscription is paid in one transaction
// (PaymentRouter.payWithPermit); with a token without permits the payer approves first.
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

contract HansaTestToken is ERC20, ERC20Permit {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) ERC20Permit(name_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// A faucet: tokens for anyone, for testing only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
