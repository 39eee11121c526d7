"""Write tests/vectors/merkle.json: shared Merkle test vectors for Python, Solidity and docs;
and tests/assets/receipts/: receipts that must be refused, each named after its defect.

Merkle values derive from fixed seeds (SHA-256 of a label), so rerunning gives the same file.
The refused receipts derive from tests/assets/receipts/example/receipt.json, a real receipt
from an anvil run (`--example` makes a new one: it starts anvil, signs and anchors a
certificate, and records the JSON-RPC exchanges of a verification; `--rerecord` replays the
committed example on a fresh anvil with the current registry, at its original block times, so
that only the recorded answers and the anchoring transaction change after a contract change).
Run: .venv/bin/python scripts/make_vectors.py [--check] [--example | --rerecord]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eth_utils.crypto import keccak  # noqa: E402

from contracts.merkle import MerkleTree, leaf_hash, process_proof  # noqa: E402

OUTPUT = ROOT / "tests" / "vectors" / "merkle.json"
TREE_SIZES = {
    "one_leaf": 1,
    "two_leaves": 2,
    "three_leaves": 3,
    "five_leaves": 5,
    "eight_leaves": 8,
}
SCHEME = (
    "SCEAU Merkle scheme v1. leaf = keccak256(keccak256(ascii('SCEAU/leaf/v1') || certificate_id "
    "(16 bytes) || salt (32 bytes) || pdf_sha256 (32 bytes))). node(a, b) = keccak256(min(a, b) "
    "|| max(a, b)), comparing the 32-byte values as unsigned big-endian integers (OpenZeppelin "
    "MerkleProof commutative hash). Leaves are sorted ascending and unique; each level pairs "
    "(0,1), (2,3), ...; an odd last node is carried up unchanged; a single leaf is its own root "
    "(empty proof). A proof lists the sibling hashes from the leaf up to the root. Hex strings "
    "are lowercase; hashes are 0x-prefixed, certificate_id and pdf_sha256 are bare hex."
)


def seeded(label: str, size: int) -> bytes:
    """Deterministic bytes for `label` (SHA-256 of a fixed, readable seed)."""
    return hashlib.sha256(f"sceau-vectors/v1/{label}".encode()).digest()[:size]


def hex0x(value: bytes) -> str:
    return "0x" + value.hex()


def make_tree(name: str, size: int) -> tuple[dict[str, Any], MerkleTree]:
    """One named tree: its certificates, leaves, root and every proof."""
    certs = []
    for i in range(size):
        cid = seeded(f"{name}/{i}/certificate_id", 16)
        salt = seeded(f"{name}/{i}/salt", 32)
        pdf = seeded(f"{name}/{i}/pdf_sha256", 32)
        certs.append(
            {
                "certificate_id": cid.hex(),
                "salt": hex0x(salt),
                "pdf_sha256": pdf.hex(),
                "leaf": hex0x(leaf_hash(cid, salt, pdf)),
            }
        )
    certs.sort(key=lambda c: c["leaf"])
    tree = MerkleTree(bytes.fromhex(c["leaf"][2:]) for c in certs)
    proofs = [
        {"leaf": hex0x(leaf), "proof": [hex0x(p) for p in tree.proof(leaf)]} for leaf in tree.leaves
    ]
    return {"name": name, "leaves": certs, "root": hex0x(tree.root), "proofs": proofs}, tree


def flip_bit(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


def invalid_cases(five: MerkleTree, eight: MerkleTree) -> list[dict[str, Any]]:
    """Proofs that must not verify, each named after its defect."""
    leaf5, leaf8 = five.leaves[2], eight.leaves[0]
    proof5, proof8 = five.proof(leaf5), eight.proof(leaf8)
    # Leaves are sorted, so leaves[0] || leaves[1] is the preimage of the first inner node.
    inner_as_leaf = leaf_of_preimage(eight.leaves[0] + eight.leaves[1])
    cases = [
        (
            "tampered_sibling",
            leaf5,
            (flip_bit(proof5[0]), *proof5[1:]),
            five.root,
            "one bit of the first sibling hash is flipped",
        ),
        (
            "leaf_one_bit_flipped",
            flip_bit(leaf5),
            proof5,
            five.root,
            "one bit of the leaf is flipped",
        ),
        (
            "proof_from_other_tree",
            leaf5,
            proof8,
            five.root,
            "the proof belongs to a leaf of another tree",
        ),
        (
            "truncated_proof",
            leaf8,
            proof8[:-1],
            eight.root,
            "the last sibling of the proof is missing",
        ),
        (
            "extra_sibling",
            leaf8,
            (*proof8, proof8[0]),
            eight.root,
            "a sibling is appended to a valid proof",
        ),
        (
            "inner_node_as_leaf",
            inner_as_leaf,
            proof8[1:],
            eight.root,
            "the 64-byte preimage of an inner node is presented as leaf data: hashed as a leaf "
            "(double keccak256) it does not equal the inner node, so the rest of the proof fails",
        ),
    ]
    out = []
    for name, leaf, proof, root, why in cases:
        assert process_proof(leaf, proof) != root, name
        out.append(
            {
                "name": name,
                "leaf": hex0x(leaf),
                "proof": [hex0x(p) for p in proof],
                "root": hex0x(root),
                "why": why,
            }
        )
    return out


def leaf_of_preimage(preimage: bytes) -> bytes:
    """The double keccak256 the scheme applies to leaf data (without the tag: worst case)."""
    assert len(preimage) == 64
    return keccak(keccak(preimage))


def build() -> dict[str, Any]:
    trees, built = [], {}
    for name, size in TREE_SIZES.items():
        doc, tree = make_tree(name, size)
        trees.append(doc)
        built[name] = tree
    invalid = invalid_cases(built["five_leaves"], built["eight_leaves"])
    return {"scheme": SCHEME, "trees": trees, "invalid": invalid}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    parser.add_argument("--example", action="store_true", help="make a new example on anvil")
    parser.add_argument(
        "--rerecord", action="store_true", help="replay the example on the current registry"
    )
    args = parser.parse_args()
    if args.example:
        make_example(RECEIPTS / "example")
    elif args.rerecord:
        rerecord_example(RECEIPTS / "example")
    files = {OUTPUT: render(build()), **refused_receipts()}
    stale = [path for path, text in files.items() if _current(path) != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run scripts/make_vectors.py")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _current(path: Path) -> str:
    return path.read_text() if path.exists() else ""


# --- receipts that must be refused ----------------------------------------------------------------

RECEIPTS = ROOT / "tests" / "assets" / "receipts"


def _example_receipt() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECEIPTS / "example" / "receipt.json").read_text())
    return doc


def _swap_case_checksum(address: str) -> str:
    """The EIP-55 address with the case of its first letter swapped: a wrong checksum."""
    body = address[2:]
    i = next(i for i, c in enumerate(body) if c.isalpha())
    return "0x" + body[:i] + body[i].swapcase() + body[i + 1 :]


def _changed_digit(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")


def refused_receipts() -> dict[Path, str]:
    """Each defect as a file `<defect>.json`, and index.json listing why each must be refused."""
    base = _example_receipt()
    text = json.dumps(base, indent=2, sort_keys=True)
    cases: dict[str, tuple[str, str]] = {}

    def case(name: str, body: str, why: str) -> None:
        cases[name] = (body, why)

    def changed(name: str, why: str, **fields: Any) -> None:
        case(name, json.dumps({**base, **fields}, indent=2, sort_keys=True) + "\n", why)

    changed("unknown_field", "a field the format does not define", note="hello")
    changed(
        "unknown_nested_field",
        "a field the format does not define, inside `issuer`",
        issuer={**base["issuer"], "logo": "x"},
    )
    case(
        "duplicate_key",
        text.replace('"root": ', f'"root": "{base["leaf"]}",\n  "root": ', 1) + "\n",
        "the key `root` appears twice",
    )
    changed(
        "contract_bad_checksum",
        "mixed-case `contract` whose EIP-55 checksum is wrong",
        contract=_swap_case_checksum(base["contract"]),
    )
    changed(
        "salt_digit_changed",
        "the leaf is not the hash of id, salt and PDF hash",
        salt=_changed_digit(base["salt"]),
    )
    changed(
        "salt_uppercase",
        "hex other than `contract` must be lowercase",
        salt=base["salt"].upper().replace("0X", "0x"),
    )
    changed(
        "proof_truncated",
        "the proof no longer leads from the leaf to the root",
        proof=base["proof"][:-1],
    )
    changed(
        "anchored_at_without_offset",
        "a date-time without `Z` or an offset",
        anchored_at=base["anchored_at"].rstrip("Z"),
    )
    changed("anchored_at_as_number", "a date-time given as a number", anchored_at=1764629400)
    changed(
        "anchored_at_with_space",
        "a date-time with a space instead of `T`",
        anchored_at=base["anchored_at"].replace("T", " "),
    )
    changed("chain_id_as_string", "an integer given as a string", chain_id=str(base["chain_id"]))
    changed(
        "block_number_as_float",
        "an integer given with a fraction",
        block_number=base["block_number"] + 0.5,
    )
    changed("block_number_true", "a boolean where an integer is expected", block_number=True)
    changed("format_unknown", "another format", format="sceau-receipt/2")
    case(
        "block_number_nan",
        text.replace(f'"block_number": {base["block_number"]}', '"block_number": NaN') + "\n",
        "NaN is not JSON",
    )
    case("not_json", text[: len(text) // 2], "truncated: not JSON")
    case("not_an_object", "[]\n", "a JSON array, not an object")
    case(
        "lone_surrogate",
        text.replace('"name": "', '"name": "\\udcff', 1) + "\n",
        "a lone surrogate escape in a string",
    )
    changed("chain_id_too_large", "an integer above 2^64 - 1", chain_id=2**64)
    changed("block_number_too_large", "an integer above 2^64 - 1", block_number=2**64)
    changed(
        "profile_url_not_http",
        "`issuer.profile_url` neither an http(s) URL nor null",
        issuer={**base["issuer"], "profile_url": "ftp://certs.example.org/issuer.json"},
    )
    for name, (status, why) in refused_status_references(base).items():
        changed(name, why, status=status)
    files = {RECEIPTS / f"{name}.json": body for name, (body, _) in cases.items()}
    index = {name: why for name, (_, why) in cases.items()}
    files[RECEIPTS / "index.json"] = json.dumps(index, indent=2, sort_keys=True) + "\n"
    return {**files, **refused_profiles(), **accepted_with_status()}


# The example's status list: where `sceau` would serve it for the example issuer
# (docs/status-list.md), and a slot of it.
EXAMPLE_STATUS_LIST = "https://certs.ill.example.org/status/ill-lyon"
EXAMPLE_STATUS = {"status_list": {"idx": 48213, "uri": EXAMPLE_STATUS_LIST}}


def refused_status_references(base: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """The receipt's optional `status` (docs/receipt.md, section 1.1), one defect each."""
    reference = EXAMPLE_STATUS["status_list"]

    def listed(**fields: Any) -> dict[str, Any]:
        return {"status_list": {**reference, **fields}}

    return {
        "status_null": (None, "`status` given as null (Sceau leaves it out)"),
        "status_unknown_member": (
            {**EXAMPLE_STATUS, "status_bitstring": {}},
            "a member `status` does not define",
        ),
        "status_list_unknown_member": (
            listed(bits=2),
            "a member `status.status_list` does not define",
        ),
        "status_idx_negative": (listed(idx=-1), "a negative `idx`"),
        "status_idx_too_large": (listed(idx=2**32), "an `idx` of 2^32 or more"),
        "status_idx_as_string": (listed(idx="48213"), "an `idx` given as a string"),
        "status_uri_other_origin": (
            listed(uri="https://status.example.net/status/ill-lyon"),
            "a status list on another origin than `issuer.profile_url`",
        ),
        "status_uri_http_not_loopback": (
            listed(uri=EXAMPLE_STATUS_LIST.replace("https://", "http://")),
            "a plain http status list URL outside the loopback",
        ),
    }


ACCEPTED = RECEIPTS / "accepted"


def accepted_with_status() -> dict[Path, str]:
    """The example receipt and profile with their optional status list members: both valid."""
    receipt = {**_example_receipt(), "status": EXAMPLE_STATUS}
    profile = json.loads((RECEIPTS / "example" / "profile.json").read_text())
    profile["status_list"] = {"bits": 2, "uri": EXAMPLE_STATUS_LIST}
    return {
        ACCEPTED / "receipt_with_status.json": json.dumps(receipt, indent=2, sort_keys=True) + "\n",
        ACCEPTED / "profile_with_status_list.json": json.dumps(profile, indent=2, sort_keys=True)
        + "\n",
    }


PROFILES = RECEIPTS / "profiles"


def refused_profiles() -> dict[Path, str]:
    """The example profile with one defect each (docs/profile.md, section 1.2), and an index."""
    base: dict[str, Any] = json.loads((RECEIPTS / "example" / "profile.json").read_text())
    cert = base["signing_certificates"][0]
    pem: str = cert["pem"]
    root: str = base["trust_roots"][0]
    cases: dict[str, tuple[Any, str]] = {
        "pem_crlf": (
            {"signing_certificates": [{**cert, "pem": pem.replace("\n", "\r\n")}]},
            "a certificate PEM with CRLF line ends",
        ),
        "pem_no_final_newline": (
            {"signing_certificates": [{**cert, "pem": pem.rstrip("\n")}]},
            "a certificate PEM without its final line end",
        ),
        "pem_two_certificates": (
            {"signing_certificates": [{**cert, "pem": pem + root}]},
            "two certificates in one PEM",
        ),
        "pem_leading_text": (
            {"signing_certificates": [{**cert, "pem": "issuer certificate\n" + pem}]},
            "text before the BEGIN line",
        ),
        "trust_root_crlf": (
            {"trust_roots": [root.replace("\n", "\r\n")]},
            "a trust root with CRLF line ends (same rules as `pem`)",
        ),
        "trust_root_no_final_newline": (
            {"trust_roots": [root.rstrip("\n")]},
            "a trust root without its final line end",
        ),
        "public_base_url_not_http": (
            {"public_base_url": "ftp://certs.example.org"},
            "`public_base_url` not an http(s) URL",
        ),
        "chain_id_too_large": ({"chain_id": 2**64}, "an integer above 2^64 - 1"),
        "status_list_null": ({"status_list": None}, "`status_list` given as null"),
        "status_list_bits_one": (
            {"status_list": {"bits": 1, "uri": EXAMPLE_STATUS_LIST}},
            "a status list of another width than 2 bits",
        ),
        "status_list_unknown_member": (
            {"status_list": {"bits": 2, "ttl": 300, "uri": EXAMPLE_STATUS_LIST}},
            "a member `status_list` does not define",
        ),
        "status_list_other_origin": (
            {"status_list": {"bits": 2, "uri": "https://status.example.net/status/ill-lyon"}},
            "a status list on another origin than `public_base_url`",
        ),
    }
    files = {
        PROFILES / f"{name}.json": json.dumps({**base, **change}, indent=2, sort_keys=True) + "\n"
        for name, (change, _) in cases.items()
    }
    index = {name: why for name, (_, why) in cases.items()}
    files[PROFILES / "index.json"] = json.dumps(index, indent=2, sort_keys=True) + "\n"
    return files


# --- the example: a real certificate anchored on a fresh anvil ------------------------------------


def make_example(folder: Path) -> None:
    """Start anvil, deploy, sign and anchor one certificate; write its PDF, receipt, profile and
    the JSON-RPC exchanges a verifier makes."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, _example_chain(Path(tmp)) as (url, admin, client):
        _example_files(folder, Path(tmp), url, admin, client)


def rerecord_example(folder: Path) -> None:
    """Anchor the committed example's root again on a fresh anvil with the current registry, at
    the same block and time, by the same accounts; publish the same profile; rewrite the
    receipt's `transaction` and rpc.json. The PDF and the profile stay as they are."""
    import tempfile

    from contracts.receipt import Receipt

    receipt = Receipt.from_json((folder / "receipt.json").read_bytes())
    profile = (folder / "profile.json").read_bytes()
    moment = int(receipt.anchored_at.timestamp())
    with (
        tempfile.TemporaryDirectory() as tmp,
        _example_chain(Path(tmp), genesis_timestamp=moment - 60) as (url, admin, client),
    ):
        if client.address != receipt.contract:
            raise SystemExit(f"the registry deployed at {client.address}, not {receipt.contract}")
        _rpc(url, "evm_setNextBlockTimestamp", [moment])
        outcome = client.anchor(receipt.root)
        if (outcome.block_number, outcome.block_timestamp) != (
            receipt.block_number,
            receipt.anchored_at,
        ):
            raise SystemExit(f"the replay anchored in another block or at another time: {outcome}")
        _rpc(url, "evm_setNextBlockTimestamp", [moment])  # the profile, as in the first run
        _publish_profile(url, admin, client.address, profile)
        replayed = receipt.model_copy(update={"transaction": outcome.tx_hash})
        (folder / "receipt.json").write_bytes(Receipt.from_json(replayed.to_json()).to_json())
        exchanges = _exchanges(url, client.address, replayed)
        (folder / "rpc.json").write_text(json.dumps(exchanges, indent=2) + "\n")


@contextmanager
def _example_chain(
    tmp: Path, *, genesis_timestamp: int | None = None
) -> Iterator[tuple[str, Any, Any]]:
    """A fresh anvil with the registry deployed by the example's admin (a fixed key, so a fixed
    address) and its issuer granted: the RPC URL, the admin account and the issuer's client."""
    import socket

    from eth_account import Account

    from contracts.client import RegistryClient, Role, deploy_registry, make_web3
    from contracts.localchain import fund_account, start_chain, stop_chain

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    chain = start_chain(tmp / "anvil", port=port, genesis_timestamp=genesis_timestamp)
    try:
        admin, issuer = (Account.from_key(seeded(f"example/{n}", 32)) for n in ("a", "i"))
        for account in (admin, issuer):
            fund_account(chain.rpc_url, account.address)
        deployment = deploy_registry(make_web3(chain.rpc_url), admin, admin.address)
        connect = RegistryClient.connect
        admin_client = connect(
            rpc_url=chain.rpc_url,
            address=deployment.address,
            chain_id=chain.chain_id,
            account=admin,
        )
        admin_client.grant_role(Role.ISSUER, issuer.address)
        issuer_client = connect(
            rpc_url=chain.rpc_url,
            address=deployment.address,
            chain_id=chain.chain_id,
            account=issuer,
        )
        yield chain.rpc_url, admin, issuer_client
    finally:
        stop_chain(tmp / "anvil")


def _example_files(folder: Path, tmp: Path, rpc_url: str, admin: Any, client: Any) -> None:
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from contracts.profile import AnchoringAddress, IssuerProfile, SigningCertificate
    from contracts.receipt import Receipt, ReceiptIssuer
    from issuer.content import CefrLevel, CertificateContent, IssuerBranding
    from issuer.dev_pki import create_dev_pki
    from issuer.render import render_certificate
    from issuer.signing import load_signer

    name, base_url = "Institut Linguistique de Lyon", "https://certs.ill.example.org"
    pki = create_dev_pki(tmp / "pki", issuer_name=name, passphrase=None)
    certificate_id = seeded("example/certificate_id", 16).hex()
    content = CertificateContent(
        certificate_id=certificate_id,
        result_id="R-2026-0042",
        candidate_name="Alex Martin",
        date_of_birth=date(1998, 3, 12),
        candidate_number="LYO-2026-00042",
        exam="Diplôme de compétence en langue (DCL) — Anglais",
        language="Anglais / English",
        level=CefrLevel.B2,
        score=Decimal("78.50"),
        score_max=Decimal("100"),
        skills=(),
        session_date=date(2026, 10, 14),
        centre="Lyon Part-Dieu",
        issued_on=date(2026, 11, 20),
    )
    branding = IssuerBranding(name=name, public_base_url=base_url)
    pdf = load_signer(pki.identity).sign(render_certificate(content, branding=branding))
    salt, digest = seeded("example/salt", 32), hashlib.sha256(pdf).digest()
    leaf = leaf_hash(bytes.fromhex(certificate_id), salt, digest)
    tree = MerkleTree([leaf, seeded("example/other-1", 32), seeded("example/other-2", 32)])
    outcome = client.anchor(tree.root)
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    profile = IssuerProfile(
        name=name,
        public_base_url=base_url,
        chain_id=int(client.web3.eth.chain_id),
        contract=client.address,
        anchoring_addresses=(AnchoringAddress(address=client.account.address, valid_from=since),),
        signing_certificates=(
            SigningCertificate(pem=pki.issuer_cert.read_text(), valid_from=since),
        ),
        trust_roots=(pki.root_cert.read_text(),),
    )
    receipt = Receipt(
        certificate_id=certificate_id,
        salt=hex0x(salt),
        pdf_sha256=digest.hex(),
        leaf=hex0x(leaf),
        proof=tuple(hex0x(p) for p in tree.proof(leaf)),
        root=hex0x(tree.root),
        chain_id=profile.chain_id,
        contract=client.address,
        transaction=outcome.tx_hash,
        block_number=outcome.block_number,
        anchored_at=outcome.block_timestamp,
        issuer=ReceiptIssuer(name=name, profile_url=base_url + "/.well-known/sceau-issuer.json"),
    )
    profile_bytes = profile.to_json()
    _publish_profile(rpc_url, admin, client.address, profile_bytes)
    exchanges = _exchanges(rpc_url, client.address, receipt)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "certificate.pdf").write_bytes(pdf)
    (folder / "receipt.json").write_bytes(receipt.to_json())
    (folder / "profile.json").write_bytes(profile_bytes)
    (folder / "rpc.json").write_text(json.dumps(exchanges, indent=2) + "\n")


CALLS = {
    "checkCertificate": "checkCertificate(bytes32,bytes32[])",
    "currentProfile": "currentProfile()",
    "hasRole": "hasRole(bytes32,address)",
    "publishProfile": "publishProfile(bytes32)",
}


def selector(signature: str) -> str:
    return keccak(text=signature)[:4].hex()


def _rpc(rpc_url: str, method: str, params: list[Any]) -> dict[str, Any]:
    import requests

    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    response = requests.post(rpc_url, json=request, timeout=10).json()
    return {"request": request, "response": response}


def _exchanges(rpc_url: str, registry: str, receipt: Any) -> list[dict[str, Any]]:
    """Every question a verifier asks, in its order (docs/receipt.md, section 3.3)."""
    from eth_abi.abi import decode, encode

    args = encode(
        ["bytes32", "bytes32[]"],
        [bytes.fromhex(receipt.leaf[2:]), [bytes.fromhex(p[2:]) for p in receipt.proof]],
    )
    check = "0x" + selector(CALLS["checkCertificate"]) + args.hex()
    current = "0x" + selector(CALLS["currentProfile"])
    out = [
        _rpc(rpc_url, "eth_chainId", []),
        _rpc(rpc_url, "eth_getCode", [registry, "latest"]),
        _rpc(rpc_url, "eth_call", [{"to": registry, "data": check}, "latest"]),
    ]
    answer = bytes.fromhex(out[-1]["response"]["result"][2:])
    anchoring = ["bytes32", "uint64", "uint64", "address"]
    leaf_status = ["uint64", "uint8", "address", "uint64", "uint8", "address"]
    _root, _at, block, by, *_ = decode([*anchoring, *leaf_status], answer)
    role = encode(["bytes32", "address"], [keccak(text="ISSUER_ROLE"), by])
    has_role = "0x" + selector(CALLS["hasRole"]) + role.hex()
    out += [
        _rpc(rpc_url, "eth_call", [{"to": registry, "data": has_role}, hex(block)]),
        _rpc(rpc_url, "eth_getTransactionReceipt", [receipt.transaction]),
        _rpc(rpc_url, "eth_call", [{"to": registry, "data": current}, "latest"]),
    ]
    return out


def _publish_profile(rpc_url: str, admin: Any, registry: str, profile: bytes) -> None:
    """The registry's admin publishes the profile's SHA-256 (a raw transaction)."""
    from contracts.client import make_web3

    web3 = make_web3(rpc_url)
    data = "0x" + selector(CALLS["publishProfile"]) + hashlib.sha256(profile).hexdigest()
    tx = {
        "to": registry,
        "data": data,
        "from": admin.address,
        "chainId": web3.eth.chain_id,
        "nonce": web3.eth.get_transaction_count(admin.address),
        "gas": 200_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    signed = admin.sign_transaction(tx)
    web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed.raw_transaction))


if __name__ == "__main__":
    raise SystemExit(main())
