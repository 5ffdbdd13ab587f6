"""The admin HTTP API: routes, the caller's permissions and one mapping of domain errors to HTTP answers."""

from pco_core.api.app import create_app

__all__ = ["create_app"]
