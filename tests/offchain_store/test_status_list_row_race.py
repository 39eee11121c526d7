"""Two processes sealing their first batches at once both find no status list row: one row
is made, and each reads (and locks) it; neither fails on the primary key."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from offchain_store.records import ensure_issuer
from offchain_store.statuses import MIN_LIST_SIZE, SignedStatusListRecord, list_row
from tests.offchain_store.test_start_race import all_at_once, fresh

ISSUER = "centre-rows"


def test_first_sealers_at_once_share_one_status_list_row(database_url: str) -> None:
    engine = fresh(database_url)
    with Session(engine) as session:
        ensure_issuer(session, ISSUER, "Centre")  # the issuer exists; its list row does not
        session.commit()
    sizes: list[int] = []

    def first_seal(worker_engine: Engine) -> None:
        with Session(worker_engine) as session:
            sizes.append(list_row(session, ISSUER, lock=True).size)
            session.commit()

    assert all_at_once(database_url, first_seal) == []
    assert sizes == [MIN_LIST_SIZE] * len(sizes) and sizes
    with Session(engine) as session:
        assert len(session.exec(select(SignedStatusListRecord)).all()) == 1
    engine.dispose()
