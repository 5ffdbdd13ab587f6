"""A local dev token issuer standing in for Cognito, and the JWT check API Gateway's JWT authorizer does.

The RSA key lives in .local/dev-issuer.pem (created on first use; .local/ is gitignored) so `make token`
can mint tokens for a stack that is already running.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_KEY_PATH = Path(__file__).resolve().parents[2] / ".local" / "dev-issuer.pem"
LOCAL_ISSUER = "https://local-issuer.pco-sync.invalid/us-east-1_PcoSyncLocal"
LOCAL_CLIENT_ID = "pco-sync-local-admin-page"
DEFAULT_TTL_SECONDS = 8 * 3600


class InvalidTokenError(Exception):
    """The bearer token would be refused by the HTTP API's JWT authorizer."""


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def local_email(role: str) -> str:
    """The one address a local user of `role` has (the page's sign-in, `make token`, the banner's token)."""
    return f"{role.lower()}@church.local"


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise ValueError(f"{path} does not hold a PEM private key: delete it and a new one is made") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key: delete it and a new one is made")
    return key


def load_or_create_key(
    path: Path, *, generate: Callable[[], rsa.RSAPrivateKey] | None = None
) -> rsa.RSAPrivateKey:
    """The signing key in `path`, made on first use; every process that races to make it gets the same key.

    The key is written to a private temporary file and hard-linked into place: the link either appears
    complete or fails because another process linked first, whose key is then read instead. (A plain
    O_EXCL create let the loser fail, or read the winner's file before it was written.)
    """
    try:
        return _load_key(path)
    except FileNotFoundError:
        pass
    key = (generate or _new_key)()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _load_key(path)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class DevIssuer:
    """Mints Cognito-like ID tokens (RS256) for local users and publishes the matching JWKS."""

    key: rsa.RSAPrivateKey
    issuer: str = LOCAL_ISSUER
    client_id: str = LOCAL_CLIENT_ID

    @classmethod
    def load(cls, path: Path = DEFAULT_KEY_PATH) -> DevIssuer:
        return cls(load_or_create_key(path))

    @property
    def kid(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }

    def issue_token(
        self,
        role: str,
        *,
        email: str | None = None,
        ttl: int = DEFAULT_TTL_SECONDS,
        now: float | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        issued = int(time.time() if now is None else now)
        email = email or local_email(role)
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pco-sync-local:{email}")),
            "email": email,
            "email_verified": True,
            "cognito:groups": [role],
            "cognito:username": email,
            "iss": self.issuer,
            "aud": self.client_id,
            "token_use": "id",
            "auth_time": issued,
            "iat": issued,
            "exp": issued + ttl,
            "jti": str(uuid.uuid4()),
        }
        claims.update(extra_claims or {})
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def verifier(self) -> JwtVerifier:
        return JwtVerifier(jwks=self.jwks(), issuer=self.issuer, audiences=(self.client_id,))


def issue_token(
    role: str, *, email: str | None = None, ttl: int = DEFAULT_TTL_SECONDS, key_path: Path = DEFAULT_KEY_PATH
) -> str:
    """A bearer token for a local user holding `role` (the key is created on first use)."""
    return DevIssuer.load(key_path).issue_token(role, email=email, ttl=ttl)


@dataclass(frozen=True)
class JwtVerifier:
    """An HTTP API JWT authorizer's checks: RS256 signature by a JWKS key, iss, aud or client_id, exp, nbf."""

    jwks: Mapping[str, Any]
    issuer: str
    audiences: tuple[str, ...]
    clock: Callable[[], float] = time.time

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"malformed token: {exc}") from None
        if header.get("alg") != "RS256":
            raise InvalidTokenError("token must be signed with RS256")
        key = next((k for k in self.jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
        if key is None:
            raise InvalidTokenError("no key in the issuer's JWKS matches the token's kid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                jwt.PyJWK(dict(key)).key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_aud": False, "verify_iss": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"invalid signature: {exc}") from None
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise InvalidTokenError("issuer does not match")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(a in self.audiences for a in [*audiences, claims.get("client_id")] if a):
            raise InvalidTokenError("audience does not match")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or now >= exp:
            raise InvalidTokenError("token expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now < nbf:
            raise InvalidTokenError("token not valid yet")
        return claims
