"""Every check code with its message in French and English: the one table, nowhere else.

Messages are `str.format` templates filled from the check's details.
"""

from __future__ import annotations

from typing import NamedTuple


class Message(NamedTuple):
    """One code's message in both languages."""

    fr: str
    en: str


MESSAGES: dict[str, Message] = {
    # share (share-link entry point)
    "share_open": Message("Le partage est actif.", "The share is active."),
    "share_unknown": Message("Ce lien de partage n'existe pas.", "This share link does not exist."),
    "share_expired": Message(
        "Ce partage a expiré le {expired_at}.", "This share expired on {expired_at}."
    ),
    "share_ended": Message(
        "Le candidat a mis fin à ce partage.", "The candidate ended this share."
    ),
    "share_exhausted": Message(
        "Ce partage a atteint son nombre maximal d'ouvertures.",
        "This share has reached its maximum number of opens.",
    ),
    # decryption
    "decrypted": Message(
        "La clé du lien ouvre le certificat chiffré.",
        "The link key opens the encrypted certificate.",
    ),
    "content_shredded": Message(
        "Le contenu de ce certificat a été détruit.", "This certificate's content was destroyed."
    ),
    # integrity
    "unknown_document": Message(
        "Ce PDF ne correspond à aucun certificat délivré ici.",
        "This PDF matches no certificate issued here.",
    ),
    "pdf_matches": Message(
        "Le PDF est exactement celui qui a été ancré.", "The PDF is exactly the one anchored."
    ),
    "pdf_hash_mismatch": Message(
        "Le PDF a été modifié : son empreinte SHA-256 diffère du reçu.",
        "The PDF was altered: its SHA-256 differs from the receipt.",
    ),
    "leaf_mismatch": Message(
        "La feuille ne correspond pas à l'identifiant, au sel et à l'empreinte du PDF.",
        "The leaf does not match the certificate id, salt and PDF hash.",
    ),
    # inclusion
    "included": Message(
        "La preuve de Merkle mène de la feuille à la racine.",
        "The Merkle proof leads from the leaf to the root.",
    ),
    "proof_mismatch": Message(
        "La preuve de Merkle ne mène pas à la racine du reçu.",
        "The Merkle proof does not lead to the receipt's root.",
    ),
    # anchoring
    "anchored": Message(
        "Racine ancrée le {anchored_at} (bloc {block_number}) par {anchored_by}.",
        "Root anchored on {anchored_at} (block {block_number}) by {anchored_by}.",
    ),
    "not_anchored": Message(
        "Cette racine n'est pas ancrée sur le registre indiqué.",
        "This root is not anchored on the stated registry.",
    ),
    "anchorer_not_issuer": Message(
        "Le compte {anchored_by} n'avait pas le rôle d'émetteur au bloc {block_number}.",
        "Account {anchored_by} did not hold the issuer role at block {block_number}.",
    ),
    "no_contract": Message(
        "Aucun registre n'existe à l'adresse {contract} sur la chaîne {chain_id}.",
        "No registry exists at {contract} on chain {chain_id}.",
    ),
    "chain_unreachable": Message(
        "Le nœud de la chaîne ne répond pas : impossible de décider.",
        "The chain node does not answer: cannot decide.",
    ),
    "wrong_chain": Message(
        "Le nœud sert la chaîne {actual_chain_id}, le reçu est pour la chaîne "
        "{expected_chain_id} : impossible de décider.",
        "The node serves chain {actual_chain_id}, the receipt is for chain "
        "{expected_chain_id}: cannot decide.",
    ),
    "chain_error": Message(
        "Le nœud de la chaîne a répondu par une erreur : impossible de décider.",
        "The chain node answered with an error: cannot decide.",
    ),
    "receipt_block_mismatch": Message(
        "Le reçu indique le bloc {receipt_block_number}, mais la racine a été ancrée au bloc "
        "{block_number} : le reçu est faux.",
        "The receipt says block {receipt_block_number}, but the root was anchored in block "
        "{block_number}: the receipt is false.",
    ),
    "receipt_time_mismatch": Message(
        "Le reçu indique un ancrage le {receipt_anchored_at}, mais la chaîne dit le "
        "{anchored_at} : le reçu est faux.",
        "The receipt says it was anchored on {receipt_anchored_at}, but the chain says "
        "{anchored_at}: the receipt is false.",
    ),
    "receipt_transaction_mismatch": Message(
        "La transaction {transaction} du reçu n'est pas celle qui a ancré cette racine "
        "({why}) : le reçu est faux.",
        "Transaction {transaction} of the receipt is not the one that anchored this root "
        "({why}): the receipt is false.",
    ),
    "role_history_unavailable": Message(
        "Le nœud ne sait pas qui avait le rôle d'émetteur au bloc {block_number}.",
        "The node cannot tell who held the issuer role at block {block_number}.",
    ),
    # revocation
    "not_revoked": Message(
        "Le certificat n'est ni révoqué ni suspendu.",
        "The certificate is neither revoked nor suspended.",
    ),
    "revoked": Message(
        "Certificat révoqué le {revoked_at} (motif : {reason}).",
        "Certificate revoked on {revoked_at} (reason: {reason}).",
    ),
    "suspended": Message(
        "Certificat suspendu depuis le {suspended_at} (motif : {reason}) : il ne vaut pas tant "
        "que la suspension n'est pas levée.",
        "Certificate suspended since {suspended_at} (reason: {reason}): it does not count "
        "until the suspension is lifted.",
    ),
    # signature
    "signature_valid": Message(
        "La signature PAdES est intacte, couvre tout le fichier et remonte à une racine de "
        "confiance (au {judged_at}).",
        "The PAdES signature is intact, covers the whole file and chains to a trusted root "
        "(as of {judged_at}).",
    ),
    "signature_unchecked": Message(
        "La signature n'a pas pu être vérifiée (erreur interne).",
        "The signature could not be checked (internal error).",
    ),
    "no_signature": Message("Le PDF ne porte aucune signature.", "The PDF carries no signature."),
    "several_signatures": Message(
        "Le PDF porte {count} signatures au lieu d'une.",
        "The PDF carries {count} signatures instead of one.",
    ),
    "pdf_unreadable": Message("Le PDF est illisible.", "The PDF cannot be read."),
    "signature_broken": Message(
        "La signature ne correspond plus au contenu signé.",
        "The signature no longer matches the signed content.",
    ),
    "signature_partial": Message(
        "La signature ne couvre pas tout le fichier : du contenu a été ajouté après.",
        "The signature does not cover the whole file: content was added after it.",
    ),
    "signature_untrusted": Message(
        "Le certificat de signature ne remonte à aucune racine de confiance au {judged_at}.",
        "The signing certificate does not chain to a trusted root as of {judged_at}.",
    ),
    "signing_certificate_revoked": Message(
        "Le certificat de signature était déjà révoqué au {judged_at}, d'après les données de "
        "révocation que porte le PDF : la signature ne vaut rien.",
        "The signing certificate was already revoked as of {judged_at}, per the revocation "
        "data the PDF carries: the signature counts for nothing.",
    ),
    "no_trust_roots": Message(
        "Aucune racine de confiance : la signature n'a pas été vérifiée.",
        "No trust root given: the signature was not checked.",
    ),
    # reading the inputs (sceau verify)
    "receipt_malformed": Message(
        "Le reçu est mal formé : {problem}",
        "The receipt is malformed: {problem}",
    ),
    "profile_malformed": Message(
        "Le profil de l'émetteur est mal formé : impossible de décider. {problem}",
        "The issuer profile is malformed: cannot decide. {problem}",
    ),
    "trust_root_unreadable": Message(
        "Une racine de confiance donnée est illisible : impossible de décider. {problem}",
        "A trust root given cannot be read: cannot decide. {problem}",
    ),
    "file_unreadable": Message(
        "Le fichier {file} est illisible : impossible de décider.",
        "File {file} cannot be read: cannot decide.",
    ),
    # issuer identity
    "profile_not_current": Message(
        "Ce profil d'émetteur n'est pas celui que le registre publie actuellement : "
        "procurez-vous le profil à jour.",
        "This issuer profile is not the one the registry currently publishes: get the current "
        "profile.",
    ),
    "profile_not_anchored": Message(
        "Le registre ne publie aucune empreinte de profil : impossible de confirmer qui croire.",
        "The registry publishes no profile hash: cannot confirm whom to trust.",
    ),
    "issuer_matches": Message(
        "Signé et ancré par {issuer}, selon son profil publié.",
        "Signed and anchored by {issuer}, per its published profile.",
    ),
    "no_issuer_profile": Message(
        "Aucun profil d'émetteur : impossible de dire qui a émis ce certificat.",
        "No issuer profile given: cannot tell who issued this certificate.",
    ),
    "chain_not_issuer": Message(
        "L'émetteur n'ancre pas sur la chaîne {chain_id}.",
        "The issuer does not anchor on chain {chain_id}.",
    ),
    "contract_not_issuer": Message(
        "Le registre {contract} n'est pas celui de l'émetteur.",
        "Registry {contract} is not the issuer's.",
    ),
    "no_signing_certificate": Message(
        "Aucun certificat de signature lisible dans le PDF.",
        "No readable signing certificate in the PDF.",
    ),
    "anchoring_unknown": Message(
        "Ancrage inconnu : impossible de comparer au profil de l'émetteur.",
        "Anchoring unknown: cannot compare with the issuer's profile.",
    ),
    "signing_certificate_not_published": Message(
        "Le certificat de signature n'est pas un de ceux publiés par l'émetteur pour cette date.",
        "The signing certificate is not one the issuer published for that date.",
    ),
    "signing_certificate_retired": Message(
        "Le certificat de signature a été retiré par l'émetteur le {retired_at}, avant "
        "l'ancrage du {anchored_at}.",
        "The signing certificate was retired by the issuer on {retired_at}, before this "
        "anchoring on {anchored_at}.",
    ),
    "anchoring_address_retired": Message(
        "L'adresse d'ancrage {anchored_by} a été retirée par l'émetteur le {retired_at} ; "
        "cette racine a été ancrée après, le {anchored_at}.",
        "Anchoring address {anchored_by} was retired by the issuer on {retired_at}; this root "
        "was anchored after that, on {anchored_at}.",
    ),
    "anchoring_address_not_published": Message(
        "L'adresse d'ancrage {anchored_by} n'est pas une de celles publiées par l'émetteur "
        "pour cette date.",
        "Anchoring address {anchored_by} is not one the issuer published for that date.",
    ),
}
