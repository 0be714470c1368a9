// SPDX-License-Identifier: MIT
// An ERC-20 for devnets and tests: anyone may mint, so a devnet faucet is one call. In
// production a coordinator names any ERC-20 instead; nothing in Hansa depends on this one.
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract HansaTestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
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
