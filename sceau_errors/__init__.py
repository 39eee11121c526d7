"""The one root of Sceau's errors: every phase's own root (`RegistryError`, `StoreError`,
`IssuanceError`, `VerificationError`, `ConfigurationError`, `WebError`...) descends from
`SceauError`.

It is a package of its own, below contracts/ and offchain_store/ (which import nothing of each
other), and it imports nothing, so `sceau verify` stays light. Errors become HTTP statuses only
in `sceau/web/statuses.py` (HTTP_STATUS) and exit codes only in `sceau/console.py` (EXIT_CODES).
"""


class SceauError(Exception):
    """Something Sceau could not do; `message`, also `str(error)`, says what in plain language.

    A subclass may give a fixed `message` as a class attribute and be raised without one.
    """

    message: str = "Sceau could not do what was asked."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


__all__ = ["SceauError"]
