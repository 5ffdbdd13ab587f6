"""The PCO credentials, read from the Secrets Manager secret named by PCO_SECRET_ARN (cached 5 minutes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from pco_core.errors import ConfigError

SECRET_MAX_AGE_SECONDS = 300


class PcoCredentials(BaseModel):
    """PCO App ID and Secret (a personal access token pair) and the optional webhook secret."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    app_id: str = Field(min_length=1)
    secret: SecretStr = Field(min_length=1)
    webhook_secret: SecretStr | None = None

    @field_validator("app_id", "secret", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value


def _problem(error_type: str) -> str:
    return "missing" if error_type == "missing" else "malformed"


def parse_pco_credentials(data: Any) -> PcoCredentials:
    """The secret's JSON as credentials; ConfigError naming what is missing or malformed, never a value."""
    if not isinstance(data, dict):
        raise ConfigError("the PCO secret must be a JSON object with app_id, secret and webhook_secret")
    try:
        return PcoCredentials.model_validate(data)
    except ValidationError as exc:
        problems = ", ".join(
            f"{'.'.join(str(p) for p in err['loc'])} ({_problem(err['type'])})"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"the PCO secret is incomplete: {problems}") from None


def read_pco_secret(secret_arn: str) -> Any:
    """The secret's JSON as stored (not validated); ConfigError when it cannot be read or parsed."""
    # Imported here: the parameters utility is only needed where credentials are read.
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_secret(secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    except parameters.exceptions.TransformParameterError:
        raise ConfigError(f"the PCO secret {secret_arn} is not valid JSON") from None
    except parameters.exceptions.GetParameterError as exc:
        # The message is AWS's own answer (e.g. AccessDenied, ResourceNotFound): it never carries the value.
        raise ConfigError(f"the PCO secret {secret_arn} could not be read: {exc}") from None


def load_pco_credentials(secret_arn: str) -> PcoCredentials:
    return parse_pco_credentials(read_pco_secret(secret_arn))
