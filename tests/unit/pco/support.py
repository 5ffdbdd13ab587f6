"""Helpers of the PCO client tests: PCO-shaped documents from fixtures/ and a recording MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pco_core.pco.jsonapi import Document

FIXTURES = Path(__file__).parent / "fixtures"


def load_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def load_document(name: str) -> Document:
    return Document.model_validate(load_json(name))


class Recorder:
    """A MockTransport handler that answers from a queue and keeps every request PCO would have received."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]] = []

    def add(self, response: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses.append(response)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if self.responses else httpx.Response(200, json={"data": []})
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer
