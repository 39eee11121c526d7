// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/**
 * @title CertificateRegistry
 * @notice Anchors Merkle roots of Sceau certificate leaves and records revoked leaves.
 * @dev Only 32-byte hashes ever reach this contract: nothing personal, encrypted or not.
 * A leaf is keccak256(keccak256("SCEAU/leaf/v1" || id || salt || pdfSha256)); inner nodes use
 * OpenZeppelin's commutative keccak256 pair hash, so `MerkleProof` verifies our proofs.
 */
contract CertificateRegistry is AccessControl {
    /// @notice Role allowed to anchor Merkle roots.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role allowed to revoke certificate leaves.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    /// @notice Why a certificate was revoked. `Unspecified` is never accepted.
    enum RevocationReason {
        Unspecified,
        HolderRequest,
        IssuerError,
        Fraud,
        Superseded,
        RetentionExpired
    }

    /// @notice What `checkCertificate` answers in one call.
    /// @dev `anchoredAt == 0` means the root computed from the proof is not anchored;
    /// `revokedAt == 0` means the leaf is not revoked.
    struct CertificateStatus {
        bytes32 root;
        uint64 anchoredAt;
        uint64 anchorBlock;
        address anchoredBy;
        uint64 revokedAt;
        RevocationReason reason;
    }

    // One storage slot each: 48 + 48 + 160 bits, and 48 + 8 + 160 bits.
    struct Anchor {
        uint48 anchoredAt;
        uint48 blockNumber;
        address issuer;
    }

    struct Revocation {
        uint48 revokedAt;
        RevocationReason reason;
        address revoker;
    }

    mapping(bytes32 root => Anchor) private _anchors;
    mapping(bytes32 leaf => Revocation) private _revocations;

    /// @notice The admin address given to the constructor is the zero address.
    error RegistryZeroAdmin();
    /// @notice The root to anchor is zero.
    error RegistryZeroRoot();
    /// @notice The root was already anchored; a root is anchored once, forever.
    /// @param root The root that is already anchored.
    error RegistryRootAlreadyAnchored(bytes32 root);
    /// @notice The leaf to revoke is zero.
    error RegistryZeroLeaf();
    /// @notice The leaf was already revoked; a revocation is final.
    /// @param leaf The leaf that is already revoked.
    error RegistryLeafAlreadyRevoked(bytes32 leaf);
    /// @notice The revocation reason is `Unspecified`.
    error RegistryInvalidReason();
    /// @notice A batch revocation has a different number of leaves and reasons.
    /// @param leaves The number of leaves.
    /// @param reasons The number of reasons.
    error RegistryLengthMismatch(uint256 leaves, uint256 reasons);
    /// @notice A batch revocation has no leaves.
    error RegistryEmptyBatch();

    /// @notice A Merkle root was anchored.
    /// @param root The anchored root.
    /// @param issuer The account holding `ISSUER_ROLE` that anchored it.
    /// @param anchoredAt The block timestamp of the anchoring.
    event RootAnchored(bytes32 indexed root, address indexed issuer, uint64 anchoredAt);

    /// @notice A certificate leaf was revoked.
    /// @param leaf The revoked leaf.
    /// @param reason Why it was revoked.
    /// @param revoker The account holding `REVOKER_ROLE` that revoked it.
    /// @param revokedAt The block timestamp of the revocation.
    event LeafRevoked(
        bytes32 indexed leaf,
        RevocationReason indexed reason,
        address indexed revoker,
        uint64 revokedAt
    );

    /// @notice Deploys the registry with `admin` holding `DEFAULT_ADMIN_ROLE`.
    /// @param admin The account that grants and revokes the issuer and revoker roles.
    constructor(address admin) {
        if (admin == address(0)) revert RegistryZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Anchors a Merkle root: records the block time, block number and caller.
    /// @dev Reverts `RegistryZeroRoot` for zero and `RegistryRootAlreadyAnchored` on a repeat.
    /// @param root The Merkle root of a batch of certificate leaves.
    function anchor(bytes32 root) external onlyRole(ISSUER_ROLE) {
        if (root == bytes32(0)) revert RegistryZeroRoot();
        if (_anchors[root].anchoredAt != 0) revert RegistryRootAlreadyAnchored(root);
        uint48 nowTs = SafeCast.toUint48(block.timestamp);
        _anchors[root] = Anchor(nowTs, SafeCast.toUint48(block.number), msg.sender);
        emit RootAnchored(root, msg.sender, nowTs);
    }

    /// @notice Revokes one certificate leaf for `reason`.
    /// @param leaf The certificate leaf (not a root).
    /// @param reason Why it is revoked; `Unspecified` reverts `RegistryInvalidReason`.
    function revoke(bytes32 leaf, RevocationReason reason) external onlyRole(REVOKER_ROLE) {
        _revoke(leaf, reason);
    }

    /// @notice Revokes several leaves at once, `reasons[i]` applying to `leaves[i]`.
    /// @dev All or nothing: any invalid or already revoked leaf reverts the whole batch.
    /// @param leaves The certificate leaves.
    /// @param reasons One reason per leaf.
    function revokeBatch(
        bytes32[] calldata leaves,
        RevocationReason[] calldata reasons
    ) external onlyRole(REVOKER_ROLE) {
        if (leaves.length != reasons.length) {
            revert RegistryLengthMismatch(leaves.length, reasons.length);
        }
        if (leaves.length == 0) revert RegistryEmptyBatch();
        for (uint256 i = 0; i < leaves.length; ++i) {
            _revoke(leaves[i], reasons[i]);
        }
    }

    /// @notice When and by whom `root` was anchored; all zeros when it is not anchored.
    /// @param root The Merkle root.
    /// @return anchoredAt Block timestamp of the anchoring (0: not anchored).
    /// @return blockNumber Block number of the anchoring.
    /// @return issuer The account that anchored it.
    function anchorOf(
        bytes32 root
    ) external view returns (uint64 anchoredAt, uint64 blockNumber, address issuer) {
        Anchor storage a = _anchors[root];
        return (a.anchoredAt, a.blockNumber, a.issuer);
    }

    /// @notice When, why and by whom `leaf` was revoked; all zeros when it is not revoked.
    /// @param leaf The certificate leaf.
    /// @return revokedAt Block timestamp of the revocation (0: not revoked).
    /// @return reason Why it was revoked.
    /// @return revoker The account that revoked it.
    function revocationOf(
        bytes32 leaf
    ) external view returns (uint64 revokedAt, RevocationReason reason, address revoker) {
        Revocation storage r = _revocations[leaf];
        return (r.revokedAt, r.reason, r.revoker);
    }

    /// @notice Checks a certificate in one call: proof, anchoring of its root and revocation.
    /// @param leaf The certificate leaf.
    /// @param proof Sibling hashes from the leaf up to the root.
    /// @return status The computed root, its anchoring (zeros if none) and the leaf's revocation.
    function checkCertificate(
        bytes32 leaf,
        bytes32[] calldata proof
    ) external view returns (CertificateStatus memory status) {
        bytes32 root = MerkleProof.processProofCalldata(proof, leaf);
        Anchor storage a = _anchors[root];
        Revocation storage r = _revocations[leaf];
        status = CertificateStatus({
            root: root,
            anchoredAt: a.anchoredAt,
            anchorBlock: a.blockNumber,
            anchoredBy: a.issuer,
            revokedAt: r.revokedAt,
            reason: r.reason
        });
    }

    function _revoke(bytes32 leaf, RevocationReason reason) private {
        if (leaf == bytes32(0)) revert RegistryZeroLeaf();
        if (reason == RevocationReason.Unspecified) revert RegistryInvalidReason();
        if (_revocations[leaf].revokedAt != 0) revert RegistryLeafAlreadyRevoked(leaf);
        uint48 nowTs = SafeCast.toUint48(block.timestamp);
        _revocations[leaf] = Revocation(nowTs, reason, msg.sender);
        emit LeafRevoked(leaf, reason, msg.sender, nowTs);
    }
}
