// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title CertificateRegistry
 * @notice Anchors Merkle roots of Sceau certificate leaves, records revoked leaves, and publishes
 * the hash of the issuer's current profile.
 * @dev Only 32-byte hashes ever reach this contract: nothing personal, encrypted or not.
 * A leaf is keccak256(keccak256("SCEAU/leaf/v1" || id || salt || pdfSha256)); inner nodes use
 * OpenZeppelin's commutative keccak256 pair hash, so `MerkleProof` verifies our proofs.
 *
 * Gas: an anchored root and a revoked leaf are one storage slot each, written once in one
 * SSTORE; their events carry only what an indexer filters on (the root, the leaf), since the
 * block gives the time, the transaction gives the sender and the views give every recorded fact.
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

    // One slot: 48 + 48 + 160 bits, so writing the three fields is one SSTORE with no read.
    // 2^48 seconds and 2^48 blocks are millions of years away: the narrowing casts never truncate.
    struct Anchor {
        uint48 anchoredAt;
        uint48 blockNumber;
        address issuer;
    }

    // One slot, written whole (a struct of narrower fields would be read before each write):
    // bits 0-47 the block time, 48-55 the reason, 56-215 the revoker.
    struct Revocation {
        uint256 word;
    }

    struct Profile {
        bytes32 profileHash;
        uint64 publishedAt;
    }

    uint256 private constant _REASON_SHIFT = 48;
    uint256 private constant _REVOKER_SHIFT = 56;
    // Calldata offset of a call's first argument word, right after the 4-byte selector.
    uint256 private constant _FIRST_ARGUMENT = 4;

    mapping(bytes32 root => Anchor) private _anchors;
    mapping(bytes32 leaf => Revocation) private _revocations;
    Profile private _profile;

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
    /// @notice The revocation reason is `Unspecified` or outside the enum.
    error RegistryInvalidReason();
    /// @notice A batch revocation has a different number of leaves and reasons.
    /// @param leaves The number of leaves.
    /// @param reasons The number of reasons.
    error RegistryLengthMismatch(uint256 leaves, uint256 reasons);
    /// @notice A batch revocation has no leaves.
    error RegistryEmptyBatch();
    /// @notice The profile hash to publish is zero.
    error RegistryZeroProfile();
    /// @notice The profile hash to publish is already the current one.
    /// @param profileHash The hash that is already current.
    error RegistryProfileUnchanged(bytes32 profileHash);

    /// @notice A Merkle root was anchored.
    /// @dev The anchoring account, time and block are in `anchorOf` (and in the transaction and
    /// its block); the event carries the root alone, for indexers to filter on.
    /// @param root The anchored root.
    event RootAnchored(bytes32 indexed root);

    /// @notice A certificate leaf was revoked.
    /// @dev Anonymous, to cost one topic per leaf: the log's only topic (topic 0) is the leaf and
    /// its data is empty, so `eth_getLogs` with `topics: [leaf]` finds the leaf's revocation. No
    /// other event of this contract has one topic and no data. The reason, the time and the
    /// revoker are in `revocationOf`.
    /// @param leaf The revoked leaf.
    event LeafRevoked(bytes32 indexed leaf) anonymous;

    /// @notice The issuer published a new profile: its hash is now `currentProfile`.
    /// @param profileHash SHA-256 of the profile document's bytes.
    /// @param publishedAt The block timestamp of the publication.
    event ProfilePublished(bytes32 indexed profileHash, uint64 publishedAt);

    /// @notice Deploys the registry with `admin` holding `DEFAULT_ADMIN_ROLE`.
    /// @param admin The account that grants and revokes the roles and publishes the profile.
    constructor(address admin) {
        if (admin == address(0)) revert RegistryZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Anchors the Merkle root of a batch: records the block time, block number and caller.
    /// @dev Reverts `RegistryZeroRoot` for zero and `RegistryRootAlreadyAnchored` on a repeat.
    /// @param root The Merkle root of a batch of certificate leaves.
    function anchorBatch(bytes32 root) external onlyRole(ISSUER_ROLE) {
        if (root == bytes32(0)) revert RegistryZeroRoot();
        Anchor storage a = _anchors[root];
        if (a.anchoredAt != 0) revert RegistryRootAlreadyAnchored(root);
        a.anchoredAt = uint48(block.timestamp);
        a.blockNumber = uint48(block.number);
        a.issuer = msg.sender;
        emit RootAnchored(root);
    }

    /// @notice Revokes one certificate leaf for `reason`.
    /// @dev Reverts `RegistryZeroLeaf`, `RegistryInvalidReason` or `RegistryLeafAlreadyRevoked`.
    /// @param leaf The certificate leaf (not a root).
    /// @param reason Why it is revoked; `Unspecified` reverts `RegistryInvalidReason`.
    function revoke(bytes32 leaf, RevocationReason reason) external onlyRole(REVOKER_ROLE) {
        (leaf, reason); // decoded by the ABI decoder; `_revokeEach` reads the same two words
        // The static arguments are calldata words 1 and 2: the walk of a batch of one.
        _revokeEach(_FIRST_ARGUMENT, _FIRST_ARGUMENT + 32, 32);
    }

    /// @notice Revokes several leaves at once, `reasons[i]` applying to `leaves[i]`.
    /// @dev All or nothing: any invalid or already revoked leaf reverts the whole batch.
    /// @param leaves The certificate leaves.
    /// @param reasons One reason per leaf.
    function revokeBatch(
        bytes32[] calldata leaves,
        RevocationReason[] calldata reasons
    ) external onlyRole(REVOKER_ROLE) {
        uint256 n = leaves.length;
        if (n != reasons.length) revert RegistryLengthMismatch(n, reasons.length);
        if (n == 0) revert RegistryEmptyBatch();
        uint256 first;
        uint256 toReason;
        assembly ("memory-safe") {
            first := leaves.offset
            toReason := sub(reasons.offset, first)
        }
        _revokeEach(first, first + n * 32, toReason);
    }

    /// @notice Publishes the hash of the issuer's current profile, with the block time.
    /// @dev Reverts `RegistryZeroProfile` for zero and `RegistryProfileUnchanged` when
    /// `profileHash` is already current. Each publication emits `ProfilePublished`, so the
    /// profile's history (and with it the issuer's key history) stays on chain.
    /// @param profileHash SHA-256 of the profile document's bytes.
    function publishProfile(bytes32 profileHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (profileHash == bytes32(0)) revert RegistryZeroProfile();
        if (profileHash == _profile.profileHash) revert RegistryProfileUnchanged(profileHash);
        uint64 publishedAt = uint64(block.timestamp);
        _profile = Profile(profileHash, publishedAt);
        emit ProfilePublished(profileHash, publishedAt);
    }

    /// @notice The hash of the issuer's current profile and when it was published.
    /// @return profileHash SHA-256 of the current profile document (zero: never published).
    /// @return publishedAt Block timestamp of its publication (zero: never published).
    function currentProfile() external view returns (bytes32 profileHash, uint64 publishedAt) {
        return (_profile.profileHash, _profile.publishedAt);
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
        return _decodeRevocation(_revocations[leaf].word);
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
        (uint64 revokedAt, RevocationReason reason, ) = _decodeRevocation(
            _revocations[leaf].word
        );
        status = CertificateStatus({
            root: root,
            anchoredAt: a.anchoredAt,
            anchorBlock: a.blockNumber,
            anchoredBy: a.issuer,
            revokedAt: revokedAt,
            reason: reason
        });
    }

    /// @dev Revokes the leaf in each calldata word from `first` to `end` (exclusive), with its
    /// reason in the word `toReason` bytes further. The callers' words lie inside the calldata
    /// (the ABI decoder checked the arrays' lengths against its size), so the walk reads them
    /// without a bounds check per item. A reason is read as a word: `Unspecified` and values
    /// outside the enum revert `RegistryInvalidReason` with one comparison.
    function _revokeEach(uint256 first, uint256 end, uint256 toReason) private {
        uint256 stamp = uint256(uint48(block.timestamp)) |
            (uint256(uint160(msg.sender)) << _REVOKER_SHIFT);
        for (uint256 at = first; at < end; ) {
            bytes32 leaf;
            uint256 reason;
            assembly ("memory-safe") {
                leaf := calldataload(at)
                reason := calldataload(add(at, toReason))
                at := add(at, 32)
            }
            if (leaf == bytes32(0)) revert RegistryZeroLeaf();
            unchecked {
                if (reason - 1 >= uint256(type(RevocationReason).max)) {
                    revert RegistryInvalidReason();
                }
            }
            Revocation storage r = _revocations[leaf];
            if (r.word != 0) revert RegistryLeafAlreadyRevoked(leaf);
            r.word = stamp | (reason << _REASON_SHIFT);
            emit LeafRevoked(leaf);
        }
    }

    function _decodeRevocation(
        uint256 word
    ) private pure returns (uint64 revokedAt, RevocationReason reason, address revoker) {
        revokedAt = uint48(word);
        reason = RevocationReason(uint8(word >> _REASON_SHIFT));
        revoker = address(uint160(word >> _REVOKER_SHIFT));
    }
}
