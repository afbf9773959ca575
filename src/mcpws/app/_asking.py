"""Asking the client for input from a handler in the stateless era (2026-07-28), where the
server answers the request with an :class:`~mcpws.core.mcp.InputRequiredResult` and the
client repeats it with the answers (multi-round-trip requests).

This module owns :class:`StateSeal`, which makes ``requestState`` tamper-evident and ties
it to one request, one principal and a short lifetime, and :class:`Rounds`, the questions
and answers of one request across its rounds. A handler asks through its
:class:`~mcpws.app.Context`; each round runs it again from the start, so that the questions
it asked before are answered at once (from the state, or from the client's answers) and a
new question ends the run with :class:`InputRequired`.

The state carries only what the client sent (its earlier answers) and digests, so it is
signed, not encrypted: ``HMAC-SHA256`` over the payload, with a secret every process that
may receive the retry shares.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Final, Generic, TypeAlias, TypeVar

from mcpws.app._errors import McpError
from mcpws.core.errors import LocalProtocolError
from mcpws.core.jsonrpc import INVALID_PARAMS
from mcpws.core.mcp import (
    ClientCapabilities,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequest,
    InputRequiredResult,
    InputResponseRequestParams,
    ListRootsRequest,
    ListRootsResult,
    Model,
)

__all__ = ["STATE_SECRET_VARIABLE", "InputRequired", "Rounds", "StateSeal"]

#: What each question is answered with.
ASKED_BY: Final[dict[str, type[Model]]] = {
    "sampling/createMessage": CreateMessageResult,
    "elicitation/create": ElicitResult,
    "roots/list": ListRootsResult,
}
#: The capability a client declares to be asked each question.
_CAPABILITY: Final = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}
#: The requests a server may answer with an InputRequiredResult.
ROUND_TRIP_METHODS: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
#: The environment variable a :class:`StateSeal` without a secret reads it from.
STATE_SECRET_VARIABLE: Final = "MCPWS_STATE_SECRET"

_VERSION: Final = "s1"
_ROUND_TRIP_MEMBERS: Final = frozenset({"_meta", "inputResponses", "requestState"})

T = TypeVar("T", bound=Model)
#: The params of a question (none for ``roots/list``).
Question: TypeAlias = (
    CreateMessageRequestParams | ElicitRequestFormParams | ElicitRequestURLParams | None
)


class InputRequired(BaseException):
    """Raised where a handler awaits an answer the client has not given yet: it ends this
    run of the handler, and the server answers the request with the questions asked.

    It derives from ``BaseException``, as a cancellation does, so that a handler's
    ``except Exception`` lets it through; a handler must not catch it.
    """


def _invalid(message: str) -> McpError:
    return McpError(INVALID_PARAMS, message)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class StateSeal:
    """Seals and opens ``requestState``: a payload signed with *secret* and valid for *ttl*
    seconds of *clock* (wall-clock time: the retry may reach another process).

    Without a *secret*, the one in the environment variable ``MCPWS_STATE_SECRET`` is used,
    else a random one, which only this process knows: a retry that reaches another process
    is then refused. Every worker or replica that may receive a retry needs the same secret.
    """

    def __init__(
        self,
        secret: bytes | str | None = None,
        *,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if secret is None:
            secret = os.environ.get(STATE_SECRET_VARIABLE) or secrets.token_bytes(32)
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(key) < 16:
            raise ValueError("a state secret has at least 16 bytes")
        if not ttl > 0:
            raise ValueError(f"ttl must be positive, not {ttl!r}")
        self._key = hashlib.sha256(b"mcpws requestState\0" + key).digest()
        self.ttl = ttl
        self._clock = clock

    def _mac(self, body: str) -> str:
        return _b64(hmac.digest(self._key, f"{_VERSION}.{body}".encode(), "sha256"))

    def seal(self, payload: dict[str, Any]) -> str:
        """The token for *payload* (a JSON object), which expires after the seal's ttl."""
        body = _b64(_canonical({**payload, "exp": self._clock() + self.ttl}))
        return f"{_VERSION}.{body}.{self._mac(body)}"

    def open(self, token: str) -> dict[str, Any]:
        """The payload sealed in *token*; raises :class:`~mcpws.app.McpError` (-32602) for
        a token this seal did not make, one altered since, or one that expired."""
        version, _, rest = token.partition(".")
        body, _, mac = rest.partition(".")
        if version != _VERSION or not hmac.compare_digest(mac, self._mac(body)):
            raise _invalid("requestState was not issued by this server, or was altered")
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):  # pragma: no cover - signed by this seal
            raise _invalid("requestState is unreadable") from None
        if not payload["exp"] > self._clock():
            raise _invalid("requestState has expired: send the request again without it")
        del payload["exp"]
        assert isinstance(payload, dict)
        return payload


class _Answered(Generic[T]):
    """An awaitable of an answer already given."""

    def __init__(self, value: T) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, T]:
        yield from ()
        return self._value


class _Unanswered(Generic[T]):
    """An awaitable of an answer the client has not given: awaiting it ends the run."""

    def __await__(self) -> Generator[Any, None, T]:
        yield from ()
        raise InputRequired


def _binding(params: Model, method: str, principal: object) -> str:
    """A digest of what a state belongs to: the request's method and params (less its
    ``_meta`` and answers) and the principal's ``repr``."""
    salient = {k: v for k, v in params.to_json().items() if k not in _ROUND_TRIP_MEMBERS}
    return _b64(hashlib.sha256(_canonical([method, salient, repr(principal)])).digest()[:18])


class Rounds:
    """The questions one request of 2026-07-28 asks the client, and the answers so far.

    Built from the request, it opens the request's ``requestState`` (raising
    :class:`~mcpws.app.McpError` for one forged, altered, expired, or made for another
    request or principal) and takes the client's answers to the questions of the last
    round. :meth:`ask` hands out the n-th question of this run; :meth:`result` is the
    answer to send when a question is still open.
    """

    def __init__(
        self,
        seal: StateSeal,
        method: str,
        params: Model,
        principal: object,
        capabilities: ClientCapabilities | None,
    ) -> None:
        self._seal = seal
        self._capabilities = capabilities
        self._binding = _binding(params, method, principal)
        #: The answers, by key: the question's method and the answer's JSON.
        self._answers: dict[str, tuple[str, dict[str, Any]]] = {}
        #: This run's questions: the keys used, and those still unanswered.
        self._keys: set[str] = set()
        self._open: dict[str, InputRequest] = {}
        assert isinstance(params, InputResponseRequestParams)
        if params.request_state is not None:
            self._restore(params.request_state, params.input_responses or {})

    def _restore(self, token: str, responses: Mapping[str, Model]) -> None:
        payload = self._seal.open(token)
        if payload.get("b") != self._binding:
            raise _invalid("requestState belongs to another request or another principal")
        self._answers = {key: (method, value) for key, (method, value) in payload["a"].items()}
        for key, method in payload["q"].items():
            response = responses.get(key)
            if response is None:
                continue  # asked again in this round
            if not isinstance(response, ASKED_BY[method]):
                raise _invalid(f"inputResponses[{key!r}] does not answer {method}")
            self._answers[key] = (method, response.to_json())

    def ask(
        self,
        method: str,
        params: CreateMessageRequestParams
        | ElicitRequestFormParams
        | ElicitRequestURLParams
        | None,
        key: str | None,
    ) -> _Answered[Any] | _Unanswered[Any]:
        """The answer to *method* with *params* under *key* (by default the method and the
        number of the question in this run): an awaitable that gives it, or that ends the
        run when it is not known yet. Raises
        :class:`~mcpws.core.errors.LocalProtocolError` for a key used twice or a question
        whose capability the client did not declare."""
        capability = _CAPABILITY[method]
        if getattr(self._capabilities, capability, None) is None:
            raise LocalProtocolError(f"the client did not declare the {capability} capability")
        key = key if key is not None else f"{capability}-{len(self._keys) + 1}"
        if key in self._keys:
            raise LocalProtocolError(f"the input key {key!r} is used twice in one request")
        self._keys.add(key)
        answered = self._answers.get(key)
        if answered is not None and answered[0] == method:
            return _Answered(ASKED_BY[method].from_json(answered[1]))
        self._open[key] = _question(params)
        return _Unanswered()

    def result(self) -> InputRequiredResult:
        """The answer to send while questions are open: them, and the state that carries
        this run's answers to the retry."""
        payload = {
            "b": self._binding,
            "a": {
                key: list(answer)
                for key, answer in self._answers.items()
                if key in self._keys and key not in self._open
            },
            "q": {key: question.method for key, question in self._open.items()},
        }
        return InputRequiredResult(
            input_requests=dict(self._open), request_state=self._seal.seal(payload)
        )


def _question(params: Question) -> InputRequest:
    if isinstance(params, CreateMessageRequestParams):
        return CreateMessageRequest(params=params)
    if params is not None:
        return ElicitRequest(params=params)
    return ListRootsRequest()
