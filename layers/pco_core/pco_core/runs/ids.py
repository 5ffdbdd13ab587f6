"""Run ids: `YYYYMMDDTHHMMSSZ-<8 hex>`, so they sort by start time."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

RUN_ID_PATTERN = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def new_run_id(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("run ids need a timezone-aware start time")
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def is_run_id(value: str) -> bool:
    return RUN_ID_PATTERN.fullmatch(value) is not None
