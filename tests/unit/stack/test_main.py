"""`python -m local.stack token`: a token the running stack's authorizer accepts, from the persisted key."""

from __future__ import annotations

from pathlib import Path

import pytest

import local.stack.__main__ as cli
from local.stack.assembly import dev_issuer
from local.stack.auth import load_or_create_key
from local.stack.template import Template
from tests.unit.stack.conftest import REAL_TEMPLATE


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_token_subcommand_prints_a_token_the_stack_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key_path = tmp_path / "dev-issuer.pem"
    monkeypatch.setattr(cli, "DEFAULT_KEY_PATH", key_path)

    assert cli.main(["token", "--role", "VOLUNTEER", "--email", "v@church.test"]) == 0

    token = capsys.readouterr().out.strip()
    # What `make run` builds from the same key file and template:
    verifier = dev_issuer(Template.load(REAL_TEMPLATE), load_or_create_key(key_path)).verifier()
    claims = verifier.verify(token)
    assert (claims["cognito:groups"], claims["email"]) == (["VOLUNTEER"], "v@church.test")
