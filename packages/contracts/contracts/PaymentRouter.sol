// SPDX-License-Identifier: MIT
// Subscription payments with the dev tax split on chain. A node's key (its Ethereum address)
// sets where its income goes and its dev-tax rate; a payer pays the node for `periods` periods
// of a service for a list of Nostr pubkeys, quoting the node's quote id; the router moves the
// amount from the payer to the coordinator's payout address and the dev fund in one
// transaction and emits `Paid`. The transaction hash is the proof of payment the node checks.
// Chequebooks read the same rates when cheques are cashed, so one setting governs both.
// With a token that takes ERC-2612 permits, `payWithPermit` does it in one transaction: the
// payer signs the permit off chain instead of sending an approve first.
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

contract PaymentRouter {
    using SafeERC20 for IERC20;

    uint16 public constant MAX_RATE_BPS = 10_000;

    /// An ERC-2612 permit's deadline and signature (the owner is the caller, the spender this).
    struct Permit {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    struct NodeTerms {
        address payout;
        uint16 devTaxBps;
        bool set;
    }

    IERC20 public immutable token;
    address public immutable devFund;
    mapping(address => NodeTerms) private _terms;

    event NodeTermsSet(address indexed node, address payout, uint16 devTaxBps);
    event Paid(
        address indexed node,
        bytes32 indexed quote,
        address indexed payer,
        bytes32 service,
        uint32 periods,
        bytes32[] pubkeys,
        uint256 amount,
        uint256 devTax
    );

    error RateTooHigh(uint16 devTaxBps);
    error NoPayout();
    error NodeNotConfigured(address node);
    error NothingToPay();
    error NoPubkeys();

    constructor(IERC20 token_, address devFund_) {
        token = token_;
        devFund = devFund_;
    }

    /// Called by the node's own key: its payout address and dev-tax rate in basis points.
    function setNodeTerms(address payout, uint16 devTaxBps) external {
        if (payout == address(0)) revert NoPayout();
        if (devTaxBps > MAX_RATE_BPS) revert RateTooHigh(devTaxBps);
        _terms[msg.sender] = NodeTerms(payout, devTaxBps, true);
        emit NodeTermsSet(msg.sender, payout, devTaxBps);
    }

    /// Payout address and rate of `node`; (node, 0) when it set none.
    function termsOf(address node) public view returns (address payout, uint16 devTaxBps) {
        NodeTerms memory t = _terms[node];
        if (!t.set) return (node, 0);
        return (t.payout, t.devTaxBps);
    }

    /// The dev tax on `amount` for `node` (rounded down, in the payer's favour of nobody: the
    /// remainder goes to the coordinator).
    function devTaxOf(address node, uint256 amount) public view returns (uint256) {
        (, uint16 bps) = termsOf(node);
        return (amount * bps) / MAX_RATE_BPS;
    }

    /// Pays `node` `amount` for `periods` periods of `service` for `pubkeys`; needs an allowance.
    function pay(
        address node,
        bytes32 quote,
        bytes32 service,
        uint32 periods,
        bytes32[] calldata pubkeys,
        uint256 amount
    ) external {
        _pay(node, quote, service, periods, pubkeys, amount);
    }

    /// `pay` with the allowance given by an ERC-2612 permit in the same transaction. A permit
    /// someone already submitted (copied from the mempool) fails here and is skipped: the
    /// allowance it gave stands, and without one the transfer reverts as `pay` would.
    function payWithPermit(
        address node,
        bytes32 quote,
        bytes32 service,
        uint32 periods,
        bytes32[] calldata pubkeys,
        uint256 amount,
        Permit calldata permit
    ) external {
        try IERC20Permit(address(token)).permit(
            msg.sender, address(this), amount, permit.deadline, permit.v, permit.r, permit.s
        ) {} catch {}
        _pay(node, quote, service, periods, pubkeys, amount);
    }

    function _pay(
        address node,
        bytes32 quote,
        bytes32 service,
        uint32 periods,
        bytes32[] calldata pubkeys,
        uint256 amount
    ) private {
        NodeTerms memory t = _terms[node];
        if (!t.set) revert NodeNotConfigured(node);
        if (amount == 0 || periods == 0) revert NothingToPay();
        if (pubkeys.length == 0) revert NoPubkeys();
        uint256 devTax = (amount * t.devTaxBps) / MAX_RATE_BPS;
        if (devTax > 0) token.safeTransferFrom(msg.sender, devFund, devTax);
        token.safeTransferFrom(msg.sender, t.payout, amount - devTax);
        emit Paid(node, quote, msg.sender, service, periods, pubkeys, amount, devTax);
    }
}
