"""The one place Powertools' logger and tracer are created (service name comes from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()
