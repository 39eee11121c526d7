"""Everything on chain: the CertificateRegistry contract, its client, the Merkle scheme."""
