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

console = Console(stderr=True)
out = Console()

PHASE_LABELS = {"sign": "Render, sign, encrypt", "deliver": "Deliver"}

# One place maps errors to exit codes; 1 is reserved for "rows were rejected".
EXIT_CODES: tuple[tuple[type[BaseException], int, str], ...] = (
    (ConfigurationError, 2, "Configuration"),
    (ResultsFileError, 2, "Results file"),
    (InvalidReceipt, 2, "Receipt"),
    (InvalidProfile, 2, "Issuer profile"),
    (RegistryError, 3, "Chain"),
    (TokenError, 4, "Admin token"),
    (StoreError, 4, "Storage"),
    (DeliveryError, 5, "Delivery"),
    (IssuanceError, 5, "Issuance"),
)


def exit_code_for(error: BaseException) -> tuple[int, str] | None:
    for kind, code, label in EXIT_CODES:
        if isinstance(error, kind):
            return code, label
    return None


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
