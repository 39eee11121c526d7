"""Errors of the off-chain store: one root, one subclass per way things go wrong."""

from __future__ import annotations

from sceau_errors import SceauError


class StoreError(SceauError):
    """Root of every off-chain store error; the message is meant for a person."""


class BlobNotFound(StoreError):
    """No blob is stored under the requested key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"No stored blob under the key {key!r}.")
        self.key = key


class InvalidBlobKey(StoreError):
    """A blob key that could escape the store or is not in the allowed alphabet."""

    def __init__(self, key: str) -> None:
        shown = key if len(key) <= 80 else key[:77] + "..."
        super().__init__(
            f"The blob key {shown!r} is not allowed: use 1 to 128 characters among "
            "a-z, 0-9, '.', '_' and '-', starting with a letter or digit."
        )
        self.key = key


class BlobStoreUnavailable(StoreError):
    """The storage backend could not be reached or refused the operation."""


class DecryptionFailed(StoreError):
    """The key does not open the ciphertext, or the ciphertext was altered."""

    def __init__(self, what: str = "document") -> None:
        super().__init__(
            f"Could not decrypt the {what}: the key is wrong, or the data was altered "
            "or belongs to another certificate."
        )


class MalformedToken(StoreError):
    """A link key token that is not 43 characters of unpadded base64url."""

    def __init__(self) -> None:
        super().__init__(
            "The link key is malformed: expected 43 characters of base64url "
            "(A-Z, a-z, 0-9, '-' and '_'), as found after '#' in the link."
        )


class KeyFileError(StoreError):
    """A recovery key file is missing, malformed, already exists, or the passphrase is wrong."""


class InvalidStoreUrl(StoreError):
    """A blob store URL with an unsupported scheme or a missing part."""
