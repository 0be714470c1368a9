// SPDX-License-Identifier: MIT
// The on-chain registry of federations (seed 004's "smart contract that keeps track of
// providers"): per federation id, the manifest head's version and hash, its guardians and
// threshold, and the member nodes' keys with their services. An update follows the manifest
// chain's rules (manifest-chain.ts in @hansa/protocol), on chain:
//  - the first anchor of a federation is version 1 and its manifest hash is the federation id;
//  - every later one is exactly one version above the stored head (no rollback, no skip);
//  - it carries EIP-712 signatures by at least the stored threshold of the stored guardians
//    and by at least the new threshold of the new guardians (the same signatures count for
//    both when guardians do not change; on rotation the new ones must sign too).
// Guardians are Nostr x-only pubkeys. An ECDSA signature by the same secp256k1 secret
// recovers to the address of either the even-y or the odd-y point over x, so both count for
// that guardian; the y coordinates are computed here (modexp precompile), never supplied.
// Anyone may submit an update: the signatures are the authority, not the sender.
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

contract FederationRegistry is EIP712 {
    bytes32 public constant UPDATE_TYPEHASH = keccak256(
        "Update(bytes32 federationId,uint64 version,bytes32 manifestHash,bytes32[] guardians,uint8 threshold,bytes32[] nodes,string[] services)"
    );
    uint256 private constant P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f;
    uint256 public constant MAX_GUARDIANS = 32;
    uint256 public constant MAX_NODES = 256;

    struct Update {
        bytes32 federationId;
        uint64 version;
        bytes32 manifestHash;
        bytes32[] guardians;
        uint8 threshold;
        /// Member node keys (x-only) and, at the same index, their services joined by commas.
        bytes32[] nodes;
        string[] services;
    }

    struct Federation {
        uint64 version;
        bytes32 manifestHash;
        uint8 threshold;
        bytes32[] guardians;
        bytes32[] nodes;
        string[] services;
    }

    mapping(bytes32 => Federation) private _federations;
    /// federation id → node key → 1 + its index in `nodes` (0: not a member).
    mapping(bytes32 => mapping(bytes32 => uint256)) private _nodeSlot;

    event Anchored(bytes32 indexed federationId, uint64 version, bytes32 manifestHash, uint256 nodes);

    error BadVersion(uint64 expected, uint64 got);
    error GenesisHashMismatch();
    error BadThreshold();
    error TooMany();
    error ShapeMismatch();
    error NotOnCurve(bytes32 key);
    error DuplicateGuardian(bytes32 key);
    error NotEnoughSignatures(uint256 oldSigners, uint256 oldThreshold, uint256 newSigners, uint256 newThreshold);

    constructor() EIP712("Hansa Federation Registry", "1") {}

    function head(bytes32 federationId)
        external
        view
        returns (uint64 version, bytes32 manifestHash, uint8 threshold, bytes32[] memory guardians)
    {
        Federation storage f = _federations[federationId];
        return (f.version, f.manifestHash, f.threshold, f.guardians);
    }

    function members(bytes32 federationId)
        external
        view
        returns (bytes32[] memory nodes, string[] memory services)
    {
        Federation storage f = _federations[federationId];
        return (f.nodes, f.services);
    }

    /// Whether `node` is a member, and its services (comma-joined).
    function isMember(bytes32 federationId, bytes32 node) external view returns (bool, string memory) {
        uint256 slot = _nodeSlot[federationId][node];
        if (slot == 0) return (false, "");
        return (true, _federations[federationId].services[slot - 1]);
    }

    function updateDigest(Update calldata u) public view returns (bytes32) {
        bytes32[] memory serviceHashes = new bytes32[](u.services.length);
        for (uint256 i = 0; i < u.services.length; i++) {
            serviceHashes[i] = keccak256(bytes(u.services[i]));
        }
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    UPDATE_TYPEHASH,
                    u.federationId,
                    u.version,
                    u.manifestHash,
                    keccak256(abi.encodePacked(u.guardians)),
                    u.threshold,
                    keccak256(abi.encodePacked(u.nodes)),
                    keccak256(abi.encodePacked(serviceHashes))
                )
            )
        );
    }

    function anchor(Update calldata u, bytes[] calldata signatures) external {
        if (u.guardians.length > MAX_GUARDIANS || u.nodes.length > MAX_NODES) revert TooMany();
        if (u.nodes.length != u.services.length) revert ShapeMismatch();
        if (u.threshold == 0 || u.threshold > u.guardians.length) revert BadThreshold();
        for (uint256 i = 1; i < u.guardians.length; i++) {
            for (uint256 j = 0; j < i; j++) {
                if (u.guardians[i] == u.guardians[j]) revert DuplicateGuardian(u.guardians[i]);
            }
        }
        Federation storage f = _federations[u.federationId];
        if (u.version != f.version + 1) revert BadVersion(f.version + 1, u.version);
        if (f.version == 0 && u.manifestHash != u.federationId) revert GenesisHashMismatch();

        address[] memory signers = new address[](signatures.length);
        bytes32 digest = updateDigest(u);
        for (uint256 i = 0; i < signatures.length; i++) {
            (address a, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err == ECDSA.RecoverError.NoError) signers[i] = a;
        }
        uint256 oldCount = f.version == 0 ? 0 : _countSigners(f.guardians, signers);
        uint256 newCount = _countSigners(u.guardians, signers);
        if ((f.version != 0 && oldCount < f.threshold) || newCount < u.threshold) {
            revert NotEnoughSignatures(oldCount, f.threshold, newCount, u.threshold);
        }

        for (uint256 i = 0; i < f.nodes.length; i++) delete _nodeSlot[u.federationId][f.nodes[i]];
        f.version = u.version;
        f.manifestHash = u.manifestHash;
        f.threshold = u.threshold;
        f.guardians = u.guardians;
        f.nodes = u.nodes;
        delete f.services;
        for (uint256 i = 0; i < u.nodes.length; i++) {
            f.services.push(u.services[i]);
            _nodeSlot[u.federationId][u.nodes[i]] = i + 1;
        }
        emit Anchored(u.federationId, u.version, u.manifestHash, u.nodes.length);
    }

    /// How many of `guardians` signed (each counted once, whatever it signed twice).
    function _countSigners(bytes32[] memory guardians, address[] memory signers) private view returns (uint256 n) {
        for (uint256 g = 0; g < guardians.length; g++) {
            (address even, address odd) = addressesOf(guardians[g]);
            for (uint256 s = 0; s < signers.length; s++) {
                if (signers[s] != address(0) && (signers[s] == even || signers[s] == odd)) {
                    n++;
                    break;
                }
            }
        }
    }

    /// The Ethereum addresses of the two points with x coordinate `key` (x-only pubkey).
    function addressesOf(bytes32 key) public view returns (address even, address odd) {
        uint256 x = uint256(key);
        if (x >= P) revert NotOnCurve(key);
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        uint256 y = _modexp(rhs, (P + 1) / 4);
        if (mulmod(y, y, P) != rhs) revert NotOnCurve(key);
        uint256 yEven = y & 1 == 0 ? y : P - y;
        even = address(uint160(uint256(keccak256(abi.encodePacked(x, yEven)))));
        odd = address(uint160(uint256(keccak256(abi.encodePacked(x, P - yEven)))));
    }

    function _modexp(uint256 base, uint256 exponent) private view returns (uint256 result) {
        bytes memory input = abi.encodePacked(uint256(32), uint256(32), uint256(32), base, exponent, P);
        (bool ok, bytes memory out) = address(0x05).staticcall(input);
        require(ok && out.length == 32, "modexp");
        result = uint256(bytes32(out));
    }
}
