"""auth.py: the dev issuer's tokens, and the JWT checks API Gateway's authorizer makes."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.stack.auth import DevIssuer, InvalidTokenError, JwtVerifier, load_or_create_key

NOW = 1_795_528_800.0
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUER = DevIssuer(KEY, issuer="https://issuer.test/pool", client_id="client-1")


def verifier_at(now: float) -> JwtVerifier:
    return replace(ISSUER.verifier(), clock=lambda: now)


def test_given_a_fresh_token_then_its_cognito_like_claims_verify() -> None:
    token = ISSUER.issue_token("TECH_ADMIN", email="a@church.test", ttl=600, now=NOW)

    claims = verifier_at(NOW + 1).verify(token)

    assert claims["cognito:groups"] == ["TECH_ADMIN"]
    assert claims["email"] == "a@church.test"
    assert (claims["iss"], claims["aud"], claims["token_use"]) == (
        "https://issuer.test/pool",
        "client-1",
        "id",
    )
    assert claims["exp"] == int(NOW) + 600
    again = verifier_at(NOW).verify(ISSUER.issue_token("OTHER", email="a@church.test", now=NOW))
    assert claims["sub"] == again["sub"]  # one local user, one subject


@pytest.mark.parametrize(
    ("token", "now", "reason"),
    [
        (ISSUER.issue_token("TECH_ADMIN", ttl=60, now=NOW), NOW + 61, "expired"),
        (
            DevIssuer(KEY, issuer="https://evil.test", client_id="client-1").issue_token("R", now=NOW),
            NOW,
            "issuer",
        ),
        (DevIssuer(KEY, issuer=ISSUER.issuer, client_id="other").issue_token("R", now=NOW), NOW, "audience"),
        (ISSUER.issue_token("R", now=NOW, extra_claims={"nbf": int(NOW) + 30}), NOW, "not valid yet"),
        ("not-a-jwt", NOW, "malformed"),
    ],
)
def test_tokens_the_authorizer_would_refuse(token: str, now: float, reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        verifier_at(now).verify(token)


def test_a_token_signed_by_another_key_with_our_kid_is_refused() -> None:
    forged = jwt.encode(
        {"iss": ISSUER.issuer, "aud": ISSUER.client_id, "exp": int(NOW) + 60, "sub": "x"},
        OTHER_KEY,
        algorithm="RS256",
        headers={"kid": ISSUER.kid},
    )

    with pytest.raises(InvalidTokenError, match="signature"):
        verifier_at(NOW).verify(forged)


def test_an_hs256_token_is_refused() -> None:
    token = jwt.encode({"iss": ISSUER.issuer, "aud": "client-1", "exp": int(NOW) + 60}, "k" * 32, "HS256")

    with pytest.raises(InvalidTokenError, match="RS256"):
        verifier_at(NOW).verify(token)


def test_an_access_token_with_client_id_instead_of_aud_is_accepted() -> None:
    token = ISSUER.issue_token("R", now=NOW, extra_claims={"aud": None, "client_id": "client-1"})

    assert verifier_at(NOW).verify(token)["client_id"] == "client-1"


def test_the_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / ".local" / "dev-issuer.pem"

    first = load_or_create_key(path)
    second = load_or_create_key(path)

    assert os.stat(path).st_mode & 0o777 == 0o600
    assert first.private_numbers() == second.private_numbers()
    assert DevIssuer(second).jwks()["keys"][0]["kid"] == DevIssuer(first).kid


def test_given_two_processes_creating_the_key_at_once_then_both_get_the_same_key(tmp_path: Path) -> None:
    # Given two creators that both found no key file (the first `make run` and a `make token`)
    path = tmp_path / ".local" / "dev-issuer.pem"
    both_generating = threading.Barrier(2, timeout=10)

    def generate() -> rsa.RSAPrivateKey:
        both_generating.wait()  # neither writes before both have decided to create
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    # When each writes its own new key
    with ThreadPoolExecutor(max_workers=2) as pool:
        keys = list(pool.map(lambda _: load_or_create_key(path, generate=generate), range(2)))

    # Then neither fails, both sign with the one key on disk, and no temporary file is left behind
    on_disk = load_or_create_key(path)
    assert keys[0].private_numbers() == keys[1].private_numbers() == on_disk.private_numbers()
    assert [p.name for p in path.parent.iterdir()] == ["dev-issuer.pem"]


def test_given_an_unreadable_key_file_then_the_error_says_to_delete_it(tmp_path: Path) -> None:
    path = tmp_path / "dev-issuer.pem"
    path.write_text("")

    with pytest.raises(ValueError, match="delete it"):
        load_or_create_key(path)
