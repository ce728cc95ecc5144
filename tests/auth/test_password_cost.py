"""What a stolen users table costs an attacker: every account password is stored as an
argon2id hash at no less than OWASP's floor (Password Storage Cheat Sheet: 19 MiB of memory,
two passes), and an unknown username is checked against a hash of the same cost.

The tests in this process hash passwords more lightly (tests/conftest.py), so the app's own
cost is read from a process of its own."""

import json
import subprocess
import sys

from argon2 import Type, extract_parameters

from tests.conftest import ROOT

OWASP_MEMORY_KIB = 19 * 1024
OWASP_PASSES = 2

HASHES = """
import json
from voting_app.auth import service
real = service.hash_secret("correct horse battery")
print(json.dumps({"real": real, "stand_in": service._stand_in_hash(),
                  "matches": service.secret_matches(real, "correct horse battery"),
                  "wrong": service.secret_matches(real, "correct horse battery!")}))
"""


def test_a_password_is_stored_at_owasps_cost_and_an_unknown_name_is_checked_at_the_same():
    done = subprocess.run([sys.executable, "-c", HASHES], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    hashes = json.loads(done.stdout)
    real = extract_parameters(hashes["real"])
    assert real.type is Type.ID
    assert real.memory_cost >= OWASP_MEMORY_KIB and real.time_cost >= OWASP_PASSES, real
    assert extract_parameters(hashes["stand_in"]) == real, "an unknown username would answer faster"
    assert hashes["matches"] is True and hashes["wrong"] is False
