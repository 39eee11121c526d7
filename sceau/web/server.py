"""Serving the app: logging set up once, uvicorn's own access log off (it logs paths and queries).

`sceau serve` calls `run_server`; the tests start the same function in a subprocess.
"""

from __future__ import annotations

from typing import Any, Literal

from sceau.settings import Settings

LogLevel = Literal["debug", "info", "warning", "error"]  # never uvicorn's "trace": it logs bodies
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(level: LogLevel = "info") -> dict[str, Any]:
    """One handler on stderr for every logger; uvicorn's access logger silenced for good."""
    name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": name},
        "loggers": {
            "uvicorn": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # Its warnings quote parts of a malformed upload (a part's Content-Type, say).
            "python_multipart": {"handlers": [], "level": "ERROR", "propagate": True},
        },
    }


def run_server(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, log_level: LogLevel = "info"
) -> None:
    """Serve the pages and the JSON API until interrupted (one process)."""
    import uvicorn

    from sceau.web.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_config=logging_config(log_level),
        log_level=log_level,
        server_header=False,
    )
    uvicorn.Server(config).run()
