"""Build an in-toto Statement v1 with in-toto-attestation and sign it with securesystemslib.

usage: sign.py SUBJECT_NAME SUBJECT_SHA256 PREDICATE.json OUT_ENVELOPE PRIVKEY.pem...
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from google.protobuf import json_format
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner


def main() -> int:
    name, digest, predicate_path, out_path, *key_paths = sys.argv[1:]
    with open(predicate_path, encoding="utf-8") as f:
        predicate = json.load(f)
    subject = ResourceDescriptor(name=name, digest={"sha256": digest}).pb
    stmt = Statement([subject], "https://slsa.dev/provenance/v0.2", predicate)
    stmt.validate()
    payload = json.dumps(json_format.MessageToDict(stmt.pb), sort_keys=True).encode()
    envelope = Envelope(payload, "application/vnd.in-toto+json", {})
    for path in key_paths:
        with open(path, "rb") as f:
            envelope.sign(CryptoSigner(load_pem_private_key(f.read(), None)))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(envelope.to_dict(), f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
