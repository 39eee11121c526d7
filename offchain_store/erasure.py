"""Erasure that reaches the database file itself, not only its rows.

SQLite keeps the old bytes of an updated or deleted row in free space inside its pages, in
free pages, and in the write-ahead log until it is checkpointed and truncated: a salt set to
NULL can still be read from the file. After shredding, the database is rebuilt (VACUUM) and
its WAL truncated, so nothing erased survives on disk.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def forget_erased_rows(engine: Engine) -> bool:
    """Rewrite the database so that erased values leave no trace in its files (SQLite).

    Returns False when the write-ahead log could not be truncated because another process is
    reading it: the erased values then stay in the log until the next erasure rewrites it.
    PostgreSQL reclaims dead tuples with its own VACUUM; its files are not ours to rewrite.
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("PRAGMA secure_delete=ON")
        connection.exec_driver_sql("VACUUM")
        busy, _log_frames, _moved = connection.exec_driver_sql(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).one()
    if busy:
        logger.warning(
            "The database's write-ahead log could not be truncated after an erasure (another "
            "process is reading it); it will be at the next erasure."
        )
        return False
    return True
