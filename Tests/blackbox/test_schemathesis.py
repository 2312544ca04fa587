"""The contract run: schemathesis generates requests from openapi.yaml (valid and invalid) against a
live server with an admin key, and checks every response against the spec (status, content type,
schema, headers), that invalid data is refused and that nothing answers 5xx."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "sf-test-admin-key-0123456789"


def test_server_conforms_to_openapi(launch):
    server = launch({"enable_echo": True}, env={"SHOPFLOOR_ADMIN_KEY": ADMIN_KEY})
    binary = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(binary), "--config-file", str(ROOT / "schemathesis.toml"), "run", str(ROOT / "openapi.yaml"),
         "--url", server.base_url, "-H", f"Authorization: Bearer {ADMIN_KEY}",
         "--max-examples", os.environ.get("SCHEMATHESIS_EXAMPLES", "30"), "--seed", "1",
         "--request-timeout", "15", "--max-response-time", "12"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
