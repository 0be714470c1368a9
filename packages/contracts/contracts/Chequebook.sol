// SPDX-License-Identifier: MIT
// A payer's chequebook, after the design of Swarm Bee's ERC20SimpleSwap: the issuer deposits
// an ERC-20 and signs cumulative EIP-712 cheques off chain (Hansa's `Cheque(chequebook,
// beneficiary, cumulativePayout)`, domain "Hansa Chequebook" v1); the beneficiary cashes the
// latest one whenever it likes. Differences that answer Bee users' troubles:
//  - a cheque the balance cannot cover pays what it can, is marked bounced and says so in an
//    event (never a bare revert that leaves the peer guessing); the rest stays cashable;
//  - a hard deposit is a part of the balance promised to one beneficiary; the issuer can lower
//    it only after a timeout announced in advance, so a node can credit against it safely;
//  - the issuer withdraws only what is not promised;
//  - cashing pays the dev fund its share (the beneficiary's rate on the PaymentRouter) in the
//    same transaction, so a coordinator's dev tax can be checked on chain.
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {PaymentRouter} from "./PaymentRouter.sol";

contract Chequebook is EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant CHEQUE_TYPEHASH =
        keccak256("Cheque(address chequebook,address beneficiary,uint256 cumulativePayout)");

    struct HardDeposit {
        uint256 amount;
        uint256 decreaseAmount;
        uint256 canBeDecreasedAt;
    }

    address public immutable issuer;
    IERC20 public immutable token;
    PaymentRouter public immutable router;
    uint256 public immutable hardDepositTimeout;

    mapping(address => uint256) public paidOut;
    uint256 public totalPaidOut;
    mapping(address => HardDeposit) public hardDeposits;
    uint256 public totalHardDeposit;
    bool public bounced;

    event ChequeCashed(
        address indexed beneficiary,
        address indexed recipient,
        uint256 cumulativePayout,
        uint256 paid,
        uint256 devTax
    );
    event ChequeBounced(address indexed beneficiary, uint256 cumulativePayout, uint256 unpaid);
    event HardDepositChanged(address indexed beneficiary, uint256 amount);
    event HardDepositDecreasePrepared(address indexed beneficiary, uint256 decreaseAmount, uint256 decreasableAt);
    event Withdrawn(uint256 amount);

    error NotIssuer();
    error BadSignature();
    error NothingToCash(uint256 cumulativePayout, uint256 alreadyPaid);
    error ExceedsLiquidBalance(uint256 amount, uint256 liquid);
    error DecreaseNotReady(uint256 canBeDecreasedAt);
    error NoDecreasePrepared();

    modifier onlyIssuer() {
        if (msg.sender != issuer) revert NotIssuer();
        _;
    }

    constructor(address issuer_, IERC20 token_, PaymentRouter router_, uint256 hardDepositTimeout_)
        EIP712("Hansa Chequebook", "1")
    {
        issuer = issuer_;
        token = token_;
        router = router_;
        hardDepositTimeout = hardDepositTimeout_;
    }

    function balance() public view returns (uint256) {
        return token.balanceOf(address(this));
    }

    /// What no beneficiary holds a hard deposit on.
    function liquidBalance() public view returns (uint256) {
        uint256 b = balance();
        return b > totalHardDeposit ? b - totalHardDeposit : 0;
    }

    /// What a cheque to `beneficiary` can draw on now: the liquid balance and its hard deposit.
    function liquidBalanceFor(address beneficiary) public view returns (uint256) {
        return liquidBalance() + hardDeposits[beneficiary].amount;
    }

    /// The EIP-712 digest of the cheque Hansa signs (cheque.ts in the protocol package).
    function chequeDigest(address beneficiary, uint256 cumulativePayout) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(CHEQUE_TYPEHASH, address(this), beneficiary, cumulativePayout))
        );
    }

    /// Deposits `amount` from the caller (needs an allowance); plain transfers count too.
    function deposit(uint256 amount) external {
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// The beneficiary (msg.sender) cashes its latest cheque, paid to `recipient` less the dev
    /// tax. Pays what the balance allows; a shortfall marks the chequebook bounced.
    function cashChequeBeneficiary(address recipient, uint256 cumulativePayout, bytes calldata issuerSig)
        external
        returns (uint256 paid)
    {
        address beneficiary = msg.sender;
        if (ECDSA.recover(chequeDigest(beneficiary, cumulativePayout), issuerSig) != issuer) {
            revert BadSignature();
        }
        uint256 already = paidOut[beneficiary];
        if (cumulativePayout <= already) revert NothingToCash(cumulativePayout, already);
        uint256 owed = cumulativePayout - already;
        uint256 available = liquidBalanceFor(beneficiary);
        paid = owed > available ? available : owed;
        if (owed > paid) {
            bounced = true;
            emit ChequeBounced(beneficiary, cumulativePayout, owed - paid);
        }
        HardDeposit storage hd = hardDeposits[beneficiary];
        uint256 fromHard = paid > hd.amount ? hd.amount : paid;
        if (fromHard > 0) {
            hd.amount -= fromHard;
            totalHardDeposit -= fromHard;
            emit HardDepositChanged(beneficiary, hd.amount);
        }
        paidOut[beneficiary] = already + paid;
        totalPaidOut += paid;
        uint256 devTax = router.devTaxOf(beneficiary, paid);
        if (devTax > 0) token.safeTransfer(router.devFund(), devTax);
        if (paid > devTax) token.safeTransfer(recipient, paid - devTax);
        emit ChequeCashed(beneficiary, recipient, cumulativePayout, paid, devTax);
    }

    /// Promises `amount` more of the liquid balance to `beneficiary`.
    function increaseHardDeposit(address beneficiary, uint256 amount) external onlyIssuer {
        uint256 liquid = liquidBalance();
        if (amount > liquid) revert ExceedsLiquidBalance(amount, liquid);
        hardDeposits[beneficiary].amount += amount;
        hardDeposits[beneficiary].canBeDecreasedAt = 0;
        totalHardDeposit += amount;
        emit HardDepositChanged(beneficiary, hardDeposits[beneficiary].amount);
    }

    /// Announces a decrease; it can be applied after `hardDepositTimeout` seconds.
    function prepareDecreaseHardDeposit(address beneficiary, uint256 decreaseAmount) external onlyIssuer {
        HardDeposit storage hd = hardDeposits[beneficiary];
        if (decreaseAmount > hd.amount) revert ExceedsLiquidBalance(decreaseAmount, hd.amount);
        hd.decreaseAmount = decreaseAmount;
        hd.canBeDecreasedAt = block.timestamp + hardDepositTimeout;
        emit HardDepositDecreasePrepared(beneficiary, decreaseAmount, hd.canBeDecreasedAt);
    }

    /// Applies an announced decrease once its timeout passed (anyone may call).
    function decreaseHardDeposit(address beneficiary) external {
        HardDeposit storage hd = hardDeposits[beneficiary];
        if (hd.canBeDecreasedAt == 0) revert NoDecreasePrepared();
        if (block.timestamp < hd.canBeDecreasedAt) revert DecreaseNotReady(hd.canBeDecreasedAt);
        uint256 cut = hd.decreaseAmount > hd.amount ? hd.amount : hd.decreaseAmount;
        hd.amount -= cut;
        totalHardDeposit -= cut;
        hd.decreaseAmount = 0;
        hd.canBeDecreasedAt = 0;
        emit HardDepositChanged(beneficiary, hd.amount);
    }

    /// The issuer takes back what is not promised.
    function withdraw(uint256 amount) external onlyIssuer {
        uint256 liquid = liquidBalance();
        if (amount > liquid) revert ExceedsLiquidBalance(amount, liquid);
        token.safeTransfer(issuer, amount);
        emit Withdrawn(amount);
    }
}

/// Deploys chequebooks and remembers them, so a node can tell a real one from lookalike code.
contract ChequebookFactory {
    IERC20 public immutable token;
    PaymentRouter public immutable router;
    mapping(address => bool) public deployed;

    event ChequebookDeployed(address indexed issuer, address chequebook);

    constructor(IERC20 token_, PaymentRouter router_) {
        token = token_;
        router = router_;
    }

    function deployChequebook(address issuer, uint256 hardDepositTimeout, bytes32 salt)
        external
        returns (Chequebook chequebook)
    {
        chequebook = new Chequebook{salt: keccak256(abi.encode(issuer, salt))}(
            issuer, token, router, hardDepositTimeout
        );
        deployed[address(chequebook)] = true;
        emit ChequebookDeployed(issuer, address(chequebook));
    }
}
