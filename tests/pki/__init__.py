"""A test PKI served over HTTP by certomancer: root, intermediate, signers, CRLs, OCSP, TSA."""
