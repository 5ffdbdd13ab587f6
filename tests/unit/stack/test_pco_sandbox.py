"""`make run`'s sandbox keeps its own credentials, so a stack given a wrong secret fails as against PCO."""

from __future__ import annotations

import pytest

import local.stack.settings as cli
from local.stack.pco_sandbox import SandboxCredentials, sandbox_credentials, start_sandbox
from pco_core.errors import PcoAuthError
from pco_core.pco.client import PcoClient

OWN = SandboxCredentials(cli.LOCAL_APP_ID, cli.LOCAL_SECRET, cli.LOCAL_WEBHOOK_SECRET)
WRONG = SandboxCredentials(cli.LOCAL_APP_ID, "wrong", "wrong-webhook-secret")


@pytest.mark.parametrize("flag", [None, "", "0", "yes", "true"])
def test_given_no_adopt_flag_then_the_sandbox_keeps_its_own_credentials(flag: str | None) -> None:
    environ = {} if flag is None else {"SANDBOX_ADOPT_CREDENTIALS": flag}
    assert sandbox_credentials(environ, own=OWN, stack=WRONG) == OWN


def test_given_the_adopt_flag_then_the_sandbox_accepts_what_the_stack_was_given() -> None:
    assert sandbox_credentials({"SANDBOX_ADOPT_CREDENTIALS": "1"}, own=OWN, stack=WRONG) == WRONG


def test_given_a_stack_with_a_wrong_secret_when_it_calls_the_sandbox_then_pco_answers_401() -> None:
    # What `PCO_SECRET=wrong make run` builds: the sandbox on its own credentials, the stack on the env's.
    accepted = sandbox_credentials({}, own=OWN, stack=WRONG)
    running = start_sandbox(
        port=0, people=5, seed=1, app_id=accepted.app_id, secret=accepted.secret, webhook_secret=None
    )
    try:
        with (
            PcoClient(running.url, WRONG.app_id, WRONG.secret) as stack_client,
            pytest.raises(PcoAuthError) as refused,
        ):
            stack_client.get("/people/v2/people")
        assert "wrong" not in str(refused.value)
        with PcoClient(running.url, OWN.app_id, OWN.secret) as default_client:
            assert default_client.get("/people/v2/people").total_count == 5
    finally:
        running.stop()
