"""Serving the app: logging set up once, uvicorn's own access log off (it logs paths and queries).

`sceau serve` calls `run_server`; the tests start the same function in a subprocess. With
several worker processes each builds its own app from the same settings: the file named by
SCEAU_CONFIG and the SCEAU_* variables, which the worker processes inherit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sceau.settings import ConfigurationError, Settings, load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

CONFIG_VARIABLE = "SCEAU_CONFIG"
APP_FACTORY = "sceau.web.server:app_from_environment"

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
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: LogLevel = "info",
    workers: int = 1,
    config_file: Path | None = None,
) -> None:
    """Serve the pages and the JSON API until interrupted, in `workers` processes."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": logging_config(log_level),
        "log_level": log_level,
        "server_header": False,
    }
    if workers <= 1:
        from sceau.web.app import create_app

        uvicorn.Server(uvicorn.Config(create_app(settings), **options)).run()
        return
    _share_settings(settings, config_file)
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)


def _share_settings(settings: Settings, config_file: Path | None) -> None:
    """Worker processes rebuild the settings from the file and the environment: the same ones,
    or we refuse (settings made in code cannot reach another process)."""
    if config_file is not None:
        os.environ[CONFIG_VARIABLE] = str(config_file.resolve())
    if load_settings(_config_file()) != settings:
        raise ConfigurationError(
            "with several worker processes the settings must come from the configuration file "
            f"({CONFIG_VARIABLE} or --config) and SCEAU_* variables alone"
        )


def _config_file() -> Path | None:
    named = os.environ.get(CONFIG_VARIABLE)
    return Path(named) if named else None


def app_from_environment() -> FastAPI:
    """The app of one worker process, its settings built from SCEAU_CONFIG and SCEAU_*."""
    from sceau.entry import imports_for_life, whole_process

    with imports_for_life():
        whole_process()
        from sceau.web.app import create_app

        return create_app(load_settings(_config_file()))
