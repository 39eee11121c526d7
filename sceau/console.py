"""How the CLI shows long work and errors: rich progress bars, one error-to-exit-code map."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from contracts.errors import RegistryError
from contracts.profile import InvalidProfile
from contracts.receipt import InvalidReceipt
from issuer.delivery import DeliveryError
from issuer.errors import IssuanceError
from issuer.intake import ResultsFileError
from offchain_store.errors import StoreError
from offchain_store.tokens import TokenError
from sceau.settings import ConfigurationError
from sceau_errors import SceauError
from verifier.errors import VerificationError

console = Console(stderr=True)
out = Console()

PHASE_LABELS = {"sign": "Render, sign, encrypt", "deliver": "Deliver"}

# One place maps errors to exit codes; 1 is reserved for "rows were rejected", 6 for a tampered
# audit log (`sceau audit verify`), 10 to 13 for `sceau verify`'s verdicts. The first row the
# error is an instance of wins; SceauError, the root, is the last resort: an internal error,
# exit 70 (EX_SOFTWARE of sysexits.h).
INTERNAL_ERROR = 70
EXIT_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (ConfigurationError, 2, "Configuration"),
    (ResultsFileError, 2, "Results file"),
    (InvalidReceipt, 2, "Receipt"),
    (InvalidProfile, 2, "Issuer profile"),
    (VerificationError, 2, "Verification input"),
    (RegistryError, 3, "Chain"),
    (TokenError, 4, "Admin token"),
    (StoreError, 4, "Storage"),
    (DeliveryError, 5, "Delivery"),
    (IssuanceError, 5, "Issuance"),
    (SceauError, INTERNAL_ERROR, "Internal"),
)


def exit_code_for(error: BaseException) -> tuple[int, str] | None:
    """The exit code and label of this error; None for an error Sceau does not know."""
    return exit_code_of(type(error))


def exit_code_of(kind: type[BaseException]) -> tuple[int, str] | None:
    """The exit code and label of errors of this type: the first row it descends from."""
    return next(((code, label) for row, code, label in EXIT_CODES if issubclass(kind, row)), None)


class RichProgress:
    """The pipeline's progress sink, drawn as rich bars (quiet when not a terminal)."""

    def __init__(self) -> None:
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bars.stop()

    def start(self, phase: str, total: int) -> None:
        label = PHASE_LABELS.get(phase, phase)
        self._tasks[phase] = self._bars.add_task(label, total=total)

    def advance(self, phase: str, amount: int = 1) -> None:
        if phase in self._tasks:
            self._bars.advance(self._tasks[phase], amount)  # type: ignore[arg-type]
