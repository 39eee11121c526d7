"""The verification report: one frozen result per check, and the verdict they decide.

The verdict is computed, never stored: a report cannot claim VALID over checks that say otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    JsonValue,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from verifier.errors import VerificationError
from verifier.messages import MESSAGES


class CheckStatus(StrEnum):
    """What one check found."""

    VALID = "valid"
    INVALID = "invalid"
    ERROR = "error"
    SKIPPED = "skipped"


class CheckName(StrEnum):
    """The checks, in the order a report shows them."""

    SHARE = "share"
    DECRYPTION = "decryption"
    INTEGRITY = "integrity"
    INCLUSION = "inclusion"
    ANCHORING = "anchoring"
    REVOCATION = "revocation"
    SIGNATURE = "signature"
    ISSUER_IDENTITY = "issuer_identity"


class Verdict(StrEnum):
    """The bottom line; ERROR means "could not decide"."""

    VALID = "VALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"  # frozen for now (appeal, inquiry...): may become VALID again
    INVALID = "INVALID"
    ERROR = "ERROR"


class InvalidReport(VerificationError):
    """A serialised report that is malformed or whose verdict does not follow from its checks."""


class Unfilled(dict[str, str]):
    """A message's placeholders: one the details lack reads "?" rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


class CheckResult(BaseModel):
    """One check's outcome: status, stable code, message in French and English, details."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: CheckName
    status: CheckStatus
    code: str
    message_fr: str
    message_en: str
    details: dict[str, JsonValue] = {}

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in MESSAGES:
            raise ValueError(f"unknown check code {code!r}")
        return code

    @classmethod
    def of(
        cls, name: CheckName, status: CheckStatus, code: str, **details: JsonValue
    ) -> CheckResult:
        """Build a result, filling both messages of `code` from `details`."""
        message = MESSAGES[code]
        values = Unfilled({k: str(v) for k, v in details.items()})
        return cls(
            name=name,
            status=status,
            code=code,
            message_fr=message.fr.format_map(values),
            message_en=message.en.format_map(values),
            details=details,
        )

    def message(self, lang: str) -> str:
        """The message in `lang` ("fr" or "en")."""
        return self.message_fr if lang == "fr" else self.message_en


SUSPENDED_CODE = "suspended"  # the revocation check's code for a suspended leaf


class Judged(Protocol):
    """One check's outcome as a verdict and the dates read it: a PDF's or a presentation's."""

    @property
    def name(self) -> StrEnum: ...
    @property
    def status(self) -> CheckStatus: ...
    @property
    def code(self) -> str: ...
    @property
    def details(self) -> dict[str, JsonValue]: ...


def decide(
    checks: Iterable[Judged],
    required: Iterable[StrEnum],
    *,
    revocation: StrEnum = CheckName.REVOCATION,
) -> Verdict:
    """The verdict: INVALID > REVOKED > SUSPENDED > ERROR > VALID; VALID only if every
    required check is. The `revocation` check answers the leaf's status: revoked or suspended."""
    results = tuple(checks)
    needed = set(required)
    failed = [c for c in results if c.status is CheckStatus.INVALID]
    if any(c.name is not revocation for c in failed):
        return Verdict.INVALID
    if any(c.code != SUSPENDED_CODE for c in failed):
        return Verdict.REVOKED
    if failed:
        return Verdict.SUSPENDED
    if any(c.status is CheckStatus.ERROR for c in results):
        return Verdict.ERROR
    valid = {c.name for c in results if c.status is CheckStatus.VALID}
    if not needed or not needed <= valid:
        return Verdict.ERROR  # nothing required, or a required check skipped or missing
    return Verdict.VALID


class ChainFacts(BaseModel):
    """The dates and reasons a report reads from its anchoring and revocation checks, the same
    for a PDF's report and a presentation's, so a reader of either is told the same: when it
    was anchored, revoked or suspended, and why. Computed, never stored."""

    def _anchoring(self) -> Judged | None:
        raise NotImplementedError

    def _revocation(self) -> Judged | None:
        raise NotImplementedError

    @computed_field  # type: ignore[prop-decorator]
    @property
    def anchored_at(self) -> str | None:
        """The anchoring block's time (RFC 3339), when the anchoring check found it."""
        return _detail(self._anchoring(), "anchored_at", CheckStatus.VALID)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def revoked_at(self) -> str | None:
        """When the leaf was revoked (RFC 3339), if it was."""
        return self._revocation_detail("revoked_at", revoked=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def revocation_reason(self) -> str | None:
        """The revocation's reason category (e.g. "holder_request"), if revoked."""
        return self._revocation_detail("reason", revoked=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suspended_at(self) -> str | None:
        """Since when the leaf is suspended (RFC 3339), if it is."""
        return self._revocation_detail("suspended_at", revoked=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suspension_reason(self) -> str | None:
        """The suspension's reason (appeal, inquiry, payment, other), if suspended."""
        return self._revocation_detail("reason", revoked=False)

    def _revocation_detail(self, key: str, *, revoked: bool) -> str | None:
        """A detail of the revocation check when it found the leaf revoked (or suspended)."""
        check = self._revocation()
        if check is None or (check.code == SUSPENDED_CODE) is revoked:
            return None
        return _detail(check, key, CheckStatus.INVALID)


class VerificationReport(ChainFacts):
    """What was checked about one certificate, and the verdict that follows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    certificate_id: str | None
    checks: tuple[CheckResult, ...]
    required: tuple[CheckName, ...]
    checked_at: AwareDatetime

    @model_validator(mode="after")
    def _one_result_per_check(self) -> VerificationReport:
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError("a report holds at most one result per check")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Verdict:
        """Decided from the checks, never stored."""
        return decide(self.checks, self.required)

    def _anchoring(self) -> CheckResult | None:
        return self.check(CheckName.ANCHORING)

    def _revocation(self) -> CheckResult | None:
        return self.check(CheckName.REVOCATION)

    def check(self, name: CheckName) -> CheckResult | None:
        """The result of check `name`, if it is in the report."""
        return next((c for c in self.checks if c.name is name), None)

    def to_json(self) -> bytes:
        """JSON with the verdict and the derived dates (sorted keys, two-space indent)."""
        doc = self.model_dump(mode="json")
        return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> VerificationReport:
        """Parse a report; raises InvalidReport if its stated verdict or dates do not follow."""
        try:
            doc: Any = json.loads(raw)
            derived = {k: doc.pop(k, None) for k in _DERIVED}
            report = cls.model_validate(doc)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
            raise InvalidReport(f"report is not a JSON object: {exc}") from None
        except ValidationError as exc:
            raise InvalidReport(f"invalid report: {exc.errors()[0]['msg']}") from None
        actual = report.model_dump(mode="json", include=set(_DERIVED))
        if any(derived[k] is not None and derived[k] != actual[k] for k in _DERIVED):
            raise InvalidReport("the report's verdict or dates do not follow from its checks")
        return report


_DERIVED = (
    "verdict",
    "anchored_at",
    "revoked_at",
    "revocation_reason",
    "suspended_at",
    "suspension_reason",
)


def _detail(check: Judged | None, key: str, status: CheckStatus) -> str | None:
    if check is None or check.status is not status:
        return None
    value = check.details.get(key)
    return value if isinstance(value, str) else None


def build_report(
    *,
    certificate_id: str | None,
    checks: Iterable[CheckResult],
    required: Iterable[CheckName],
    checked_at: datetime,
) -> VerificationReport:
    """A report with its checks in display order."""
    order = list(CheckName)
    ordered = sorted(checks, key=lambda c: order.index(c.name))
    return VerificationReport(
        certificate_id=certificate_id,
        checks=tuple(ordered),
        required=tuple(required),
        checked_at=checked_at,
    )
