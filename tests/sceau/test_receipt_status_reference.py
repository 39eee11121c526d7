"""Each delivered receipt says where its issuer's status list is and which entry is its own."""

from __future__ import annotations

from sqlmodel import Session

from offchain_store.records import make_engine
from offchain_store.statuses import slot_of
from tests.conftest import SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample


def test_delivered_receipts_name_the_list_and_the_slot_drawn_at_sealing(
    sceau_env: SceauEnv,
) -> None:
    rows = subset_of_sample(sceau_env.root / "five.csv", 5)
    done = run_sceau(sceau_env.config_file, "issue", str(rows))
    assert done.returncode == 0, done.stderr + done.stdout

    receipts = [message.receipt for message in read_outbox(sceau_env.settings.mail.outbox)]
    assert len(receipts) == 5
    engine = make_engine(sceau_env.settings.database_url)
    with Session(engine) as session:
        for receipt in receipts:
            assert receipt.status is not None
            reference = receipt.status.status_list
            slot = slot_of(session, receipt.certificate_id)
            assert slot is not None and reference.idx == slot.idx
            assert reference.uri == "https://certs.example.test/status/test-centre"
    assert len({r.status.status_list.idx for r in receipts if r.status}) == 5
