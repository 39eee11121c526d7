"""Alembic's environment: run by offchain_store.schema on a connection it passes in.

There is no alembic.ini: the configuration is built in code (offchain_store.schema.alembic_config)
and the connection, already in its transaction and holding the upgrade lock, comes in
`config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

from offchain_store.schema import target_metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Sceau's migrations run through `sceau db upgrade` (offchain_store.schema), "
        "not the alembic command"
    )
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
