// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title CertificateRegistry
 * @notice Anchors Merkle roots of Sceau certificate leaves, records revoked and suspended leaves,
 * and publishes the hashes of the issuer's current profile and current status list.
 * @dev Only 32-byte hashes ever reach this contract: nothing personal, encrypted or not.
 * A leaf is keccak256(keccak256("SCEAU/leaf/v1" || id || salt || pdfSha256)); inner nodes use
 * OpenZeppelin's commutative keccak256 pair hash, so `MerkleProof` verifies our proofs.
 *
 * Gas: an anchored root and a leaf's status are one storage slot each, written in one SSTORE;
 * their events carry only what an indexer filters on (the root, the leaf, a suspension's reason),
 * since the block gives the time, the transaction gives the sender and the views give every
 * recorded fact.
 *
 * Status: a leaf is valid, suspended (reversible) or revoked (final). Revoking a suspended leaf
 * overrides its suspension; a revoked leaf can be neither suspended nor unsuspended.
 */
contract CertificateRegistry is AccessControl {
    /// @notice Role allowed to anchor Merkle roots.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role allowed to revoke certificate leaves.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");
    /// @notice Role allowed to suspend certificate leaves and to lift their suspension.
    bytes32 public constant SUSPENDER_ROLE = keccak256("SUSPENDER_ROLE");

    /// @notice Why a certificate was revoked. `Unspecified` is never accepted.
    enum RevocationReason {
        Unspecified,
        HolderRequest,
        IssuerError,
        Fraud,
        Superseded,
        RetentionExpired
    }

    /// @notice Why a certificate is suspended. `Unspecified` is never accepted.
    enum SuspensionReason {
        Unspecified,
        Appeal,
        Inquiry,
        Payment,
        Other
    }

    /// @notice What `checkCertificate` answers in one call.
    /// @dev `anchoredAt == 0` means the root computed from the proof is not anchored;
    /// `revokedAt == 0` means the leaf is not revoked; `suspendedAt == 0` means it is not
    /// suspended. A leaf is never both revoked and suspended. The accounts are in the answer so
    /// that one call tells a verifier everything the registry knows of a certificate.
    struct CertificateStatus {
        bytes32 root;
        uint64 anchoredAt;
        uint64 anchorBlock;
        address anchoredBy;
        uint64 revokedAt;
        RevocationReason revocationReason;
        address revokedBy;
        uint64 suspendedAt;
        SuspensionReason suspensionReason;
        address suspendedBy;
    }

    // One slot: 48 + 48 + 160 bits, so writing the three fields is one SSTORE with no read.
    // 2^48 seconds and 2^48 blocks are millions of years away: the narrowing casts never truncate.
    struct Anchor {
        uint48 anchoredAt;
        uint48 blockNumber;
        address issuer;
    }

    // A leaf's status in one slot, written whole (a struct of narrower fields would be read
    // before each write): bits 0-47 the block time, 48-55 the reason, 56-215 the account, bit 255
    // set for a suspension and clear for a revocation; zero for a valid leaf. One slot for both
    // keeps a revocation at one SLOAD and one SSTORE while letting it override a suspension.
    struct LeafStatus {
        uint256 word;
    }

    // A hash with its publication time (the profile, the status list): two slots.
    struct Publication {
        bytes32 documentHash;
        uint64 publishedAt;
    }

    uint256 private constant _REASON_SHIFT = 48;
    uint256 private constant _ACCOUNT_SHIFT = 56;
    // Words at or above this are suspensions; non-zero words below it are revocations.
    uint256 private constant _SUSPENDED = 1 << 255;
    // Calldata offset of a call's first argument word, right after the 4-byte selector.
    uint256 private constant _FIRST_ARGUMENT = 4;

    mapping(bytes32 root => Anchor) private _anchors;
    mapping(bytes32 leaf => LeafStatus) private _statuses;
    Publication private _profile;
    Publication private _statusList;

    /// @notice The admin address given to the constructor is the zero address.
    error RegistryZeroAdmin();
    /// @notice The root to anchor is zero.
    error RegistryZeroRoot();
    /// @notice The root was already anchored; a root is anchored once, forever.
    /// @param root The root that is already anchored.
    error RegistryRootAlreadyAnchored(bytes32 root);
    /// @notice The leaf to revoke or suspend is zero.
    error RegistryZeroLeaf();
    /// @notice The leaf was already revoked; a revocation is final (it cannot be revoked again,
    /// suspended or unsuspended).
    /// @param leaf The leaf that is already revoked.
    error RegistryLeafAlreadyRevoked(bytes32 leaf);
    /// @notice The leaf is already suspended; lift the suspension before suspending it again.
    /// @param leaf The leaf that is already suspended.
    error RegistryLeafAlreadySuspended(bytes32 leaf);
    /// @notice The leaf to unsuspend is not suspended.
    /// @param leaf The leaf that is not suspended.
    error RegistryLeafNotSuspended(bytes32 leaf);
    /// @notice The revocation or suspension reason is `Unspecified` or outside its enum.
    error RegistryInvalidReason();
    /// @notice A batch revocation or suspension has a different number of leaves and reasons.
    /// @param leaves The number of leaves.
    /// @param reasons The number of reasons.
    error RegistryLengthMismatch(uint256 leaves, uint256 reasons);
    /// @notice A batch revocation, suspension or unsuspension has no leaves.
    error RegistryEmptyBatch();
    /// @notice The profile hash to publish is zero.
    error RegistryZeroProfile();
    /// @notice The profile hash to publish is already the current one.
    /// @param profileHash The hash that is already current.
    error RegistryProfileUnchanged(bytes32 profileHash);
    /// @notice The status list hash to publish is zero.
    error RegistryZeroStatusList();
    /// @notice The status list hash to publish is already the current one.
    /// @param listHash The hash that is already current.
    error RegistryStatusListUnchanged(bytes32 listHash);

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

    /// @notice A certificate leaf was suspended (reversibly).
    /// @dev Both fields are topics, so an indexer filters on the leaf, the reason or both. The
    /// time and the suspender are in `suspensionOf`. A later revocation overrides the suspension
    /// and emits `LeafRevoked` only.
    /// @param leaf The suspended leaf.
    /// @param reason Why it is suspended.
    event LeafSuspended(bytes32 indexed leaf, SuspensionReason indexed reason);

    /// @notice The suspension of a certificate leaf was lifted: the leaf is valid again.
    /// @param leaf The leaf whose suspension was lifted.
    event LeafUnsuspended(bytes32 indexed leaf);

    /// @notice The issuer published a new profile: its hash is now `currentProfile`.
    /// @param profileHash SHA-256 of the profile document's bytes.
    /// @param publishedAt The block timestamp of the publication.
    event ProfilePublished(bytes32 indexed profileHash, uint64 publishedAt);

    /// @notice The issuer published a new status list: its hash is now `currentStatusList`.
    /// @param listHash SHA-256 of the status list token's bytes, as served.
    /// @param publishedAt The block timestamp of the publication.
    event StatusListPublished(bytes32 indexed listHash, uint64 publishedAt);

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
    /// A suspended leaf can be revoked: the revocation replaces its suspension.
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

    /// @notice Suspends one certificate leaf for `reason`, until `unsuspend` lifts it.
    /// @dev Reverts `RegistryZeroLeaf`, `RegistryInvalidReason`, `RegistryLeafAlreadySuspended`
    /// or `RegistryLeafAlreadyRevoked`.
    /// @param leaf The certificate leaf (not a root).
    /// @param reason Why it is suspended; `Unspecified` reverts `RegistryInvalidReason`.
    function suspend(bytes32 leaf, SuspensionReason reason) external onlyRole(SUSPENDER_ROLE) {
        (leaf, reason); // decoded by the ABI decoder; `_suspendEach` reads the same two words
        _suspendEach(_FIRST_ARGUMENT, _FIRST_ARGUMENT + 32, 32);
    }

    /// @notice Suspends several leaves at once, `reasons[i]` applying to `leaves[i]`.
    /// @dev All or nothing: any invalid, suspended or revoked leaf reverts the whole batch.
    /// @param leaves The certificate leaves.
    /// @param reasons One reason per leaf.
    function suspendBatch(
        bytes32[] calldata leaves,
        SuspensionReason[] calldata reasons
    ) external onlyRole(SUSPENDER_ROLE) {
        uint256 n = leaves.length;
        if (n != reasons.length) revert RegistryLengthMismatch(n, reasons.length);
        if (n == 0) revert RegistryEmptyBatch();
        uint256 first;
        uint256 toReason;
        assembly ("memory-safe") {
            first := leaves.offset
            toReason := sub(reasons.offset, first)
        }
        _suspendEach(first, first + n * 32, toReason);
    }

    /// @notice Lifts the suspension of one leaf: it is valid again.
    /// @dev Reverts `RegistryLeafNotSuspended`, or `RegistryLeafAlreadyRevoked` for a revoked leaf.
    /// @param leaf The suspended certificate leaf.
    function unsuspend(bytes32 leaf) external onlyRole(SUSPENDER_ROLE) {
        (leaf); // decoded by the ABI decoder; `_unsuspendEach` reads the same word
        _unsuspendEach(_FIRST_ARGUMENT, _FIRST_ARGUMENT + 32);
    }

    /// @notice Lifts the suspension of several leaves at once.
    /// @dev All or nothing: any leaf that is not suspended reverts the whole batch.
    /// @param leaves The suspended certificate leaves.
    function unsuspendBatch(bytes32[] calldata leaves) external onlyRole(SUSPENDER_ROLE) {
        uint256 n = leaves.length;
        if (n == 0) revert RegistryEmptyBatch();
        uint256 first;
        assembly ("memory-safe") {
            first := leaves.offset
        }
        _unsuspendEach(first, first + n * 32);
    }

    /// @notice Publishes the hash of the issuer's current status list, with the block time.
    /// @dev Reverts `RegistryZeroStatusList` for zero and `RegistryStatusListUnchanged` when
    /// `listHash` is already current. The issuer publishes at each status change, so a verifier
    /// holding a list can tell the current one from a stale or forged one.
    /// @param listHash SHA-256 of the status list token's bytes, as served.
    function publishStatusList(bytes32 listHash) external onlyRole(ISSUER_ROLE) {
        if (listHash == bytes32(0)) revert RegistryZeroStatusList();
        if (listHash == _statusList.documentHash) revert RegistryStatusListUnchanged(listHash);
        uint64 publishedAt = uint64(block.timestamp);
        _statusList = Publication(listHash, publishedAt);
        emit StatusListPublished(listHash, publishedAt);
    }

    /// @notice The hash of the issuer's current status list and when it was published.
    /// @return listHash SHA-256 of the current status list token (zero: never published).
    /// @return publishedAt Block timestamp of its publication (zero: never published).
    function currentStatusList() external view returns (bytes32 listHash, uint64 publishedAt) {
        return (_statusList.documentHash, _statusList.publishedAt);
    }

    /// @notice Publishes the hash of the issuer's current profile, with the block time.
    /// @dev Reverts `RegistryZeroProfile` for zero and `RegistryProfileUnchanged` when
    /// `profileHash` is already current. Each publication emits `ProfilePublished`, so the
    /// profile's history (and with it the issuer's key history) stays on chain.
    /// @param profileHash SHA-256 of the profile document's bytes.
    function publishProfile(bytes32 profileHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (profileHash == bytes32(0)) revert RegistryZeroProfile();
        if (profileHash == _profile.documentHash) revert RegistryProfileUnchanged(profileHash);
        uint64 publishedAt = uint64(block.timestamp);
        _profile = Publication(profileHash, publishedAt);
        emit ProfilePublished(profileHash, publishedAt);
    }

    /// @notice The hash of the issuer's current profile and when it was published.
    /// @return profileHash SHA-256 of the current profile document (zero: never published).
    /// @return publishedAt Block timestamp of its publication (zero: never published).
    function currentProfile() external view returns (bytes32 profileHash, uint64 publishedAt) {
        return (_profile.documentHash, _profile.publishedAt);
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
        uint256 word = _statuses[leaf].word;
        if (word >= _SUSPENDED) return (0, RevocationReason.Unspecified, address(0));
        (uint64 at, uint8 why, address by) = _decodeStatus(word);
        return (at, RevocationReason(why), by);
    }

    /// @notice When, why and by whom `leaf` was suspended; all zeros when it is not suspended
    /// (never suspended, lifted, or revoked since).
    /// @param leaf The certificate leaf.
    /// @return suspendedAt Block timestamp of the suspension (0: not suspended).
    /// @return reason Why it is suspended.
    /// @return suspender The account that suspended it.
    function suspensionOf(
        bytes32 leaf
    ) external view returns (uint64 suspendedAt, SuspensionReason reason, address suspender) {
        uint256 word = _statuses[leaf].word;
        if (word < _SUSPENDED) return (0, SuspensionReason.Unspecified, address(0));
        (uint64 at, uint8 why, address by) = _decodeStatus(word);
        return (at, SuspensionReason(why), by);
    }

    /// @notice Checks a certificate in one call: proof, anchoring of its root, revocation and
    /// suspension.
    /// @param leaf The certificate leaf.
    /// @param proof Sibling hashes from the leaf up to the root.
    /// @return status The computed root, its anchoring (zeros if none), the leaf's revocation and
    /// its suspension (zeros if none).
    function checkCertificate(
        bytes32 leaf,
        bytes32[] calldata proof
    ) external view returns (CertificateStatus memory status) {
        bytes32 root = MerkleProof.processProofCalldata(proof, leaf);
        Anchor storage a = _anchors[root];
        status.root = root;
        status.anchoredAt = a.anchoredAt;
        status.anchorBlock = a.blockNumber;
        status.anchoredBy = a.issuer;
        uint256 word = _statuses[leaf].word;
        (uint64 at, uint8 why, address by) = _decodeStatus(word);
        if (word >= _SUSPENDED) {
            status.suspendedAt = at;
            status.suspensionReason = SuspensionReason(why);
            status.suspendedBy = by;
        } else {
            status.revokedAt = at;
            status.revocationReason = RevocationReason(why);
            status.revokedBy = by;
        }
    }

    /// @dev Revokes the leaf in each calldata word from `first` to `end` (exclusive), with its
    /// reason in the word `toReason` bytes further. The callers' words lie inside the calldata
    /// (the ABI decoder checked the arrays' lengths against its size), so the walk reads them
    /// without a bounds check per item. A reason is read as a word: `Unspecified` and values
    /// outside the enum revert `RegistryInvalidReason` with one comparison.
    function _revokeEach(uint256 first, uint256 end, uint256 toReason) private {
        uint256 stamp = _stamp();
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
            LeafStatus storage s = _statuses[leaf];
            // Zero (valid) and suspension words pass; a revocation word (1 .. _SUSPENDED - 1)
            // reverts. One comparison: zero wraps around to the largest word.
            unchecked {
                if (s.word - 1 < _SUSPENDED - 1) revert RegistryLeafAlreadyRevoked(leaf);
            }
            s.word = stamp | (reason << _REASON_SHIFT);
            emit LeafRevoked(leaf);
        }
    }

    /// @dev Suspends the leaf in each calldata word from `first` to `end` (exclusive), with its
    /// reason `toReason` bytes further; the same walk as `_revokeEach`.
    function _suspendEach(uint256 first, uint256 end, uint256 toReason) private {
        uint256 stamp = _stamp() | _SUSPENDED;
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
                if (reason - 1 >= uint256(type(SuspensionReason).max)) {
                    revert RegistryInvalidReason();
                }
            }
            LeafStatus storage s = _statuses[leaf];
            uint256 word = s.word;
            if (word != 0) {
                if (word >= _SUSPENDED) revert RegistryLeafAlreadySuspended(leaf);
                revert RegistryLeafAlreadyRevoked(leaf);
            }
            s.word = stamp | (reason << _REASON_SHIFT);
            emit LeafSuspended(leaf, SuspensionReason(reason));
        }
    }

    /// @dev Lifts the suspension of the leaf in each calldata word from `first` to `end`.
    function _unsuspendEach(uint256 first, uint256 end) private {
        for (uint256 at = first; at < end; ) {
            bytes32 leaf;
            assembly ("memory-safe") {
                leaf := calldataload(at)
                at := add(at, 32)
            }
            LeafStatus storage s = _statuses[leaf];
            uint256 word = s.word;
            if (word < _SUSPENDED) {
                if (word == 0) revert RegistryLeafNotSuspended(leaf);
                revert RegistryLeafAlreadyRevoked(leaf);
            }
            // Back to zero, as if never suspended: the history is in the events.
            s.word = 0;
            emit LeafUnsuspended(leaf);
        }
    }

    /// @dev The block time and the caller, placed as a status word holds them.
    function _stamp() private view returns (uint256) {
        return uint256(uint48(block.timestamp)) | (uint256(uint160(msg.sender)) << _ACCOUNT_SHIFT);
    }

    function _decodeStatus(
        uint256 word
    ) private pure returns (uint64 at, uint8 reason, address account) {
        at = uint48(word);
        reason = uint8(word >> _REASON_SHIFT);
        account = address(uint160(word >> _ACCOUNT_SHIFT));
    }
}
