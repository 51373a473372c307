# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test support: a local AWS emulator that records every request it serves, and what
both emulator fixtures (tests/conftest.py, recording_emulator.py) share."""

import socket
import time

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    # Emulator mode is said explicitly, never inferred from the endpoint.
    "REELLE_AWS_TARGET": "emulator",
}


def wait_for_port(process, port, seconds):
    """True once 127.0.0.1:port accepts connections; False when the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            if process.poll() is not None:
                return False
            time.sleep(0.05)
    return False
