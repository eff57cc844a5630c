"""Verify a DSSE envelope with the Python reference (securesystemslib + in-toto-attestation).

usage: verify.py ENVELOPE THRESHOLD PUBKEY.pem...
Prints {"keyids": [...], "predicateType": ...} and exits 0 when the envelope verifies and its
payload is a valid in-toto Statement v1; exits 1 otherwise.
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def main() -> int:
    env_path, threshold, *pems = sys.argv[1:]
    keys = []
    for path in pems:
        with open(path, "rb") as f:
            keys.append(SSlibKey.from_crypto(load_pem_public_key(f.read())))
    with open(env_path, encoding="utf-8") as f:
        envelope = Envelope.from_dict(json.load(f))
    try:
        accepted = envelope.verify(keys, int(threshold))
    except Exception as e:  # the reference raises VerificationError
        print(f"verification failed: {e}", file=sys.stderr)
        return 1
    pb = json_format.Parse(envelope.payload, statement_pb2.Statement())
    stmt = Statement.copy_from_pb(pb)
    stmt.validate()
    print(json.dumps({"keyids": sorted(accepted), "predicateType": pb.predicate_type}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
