"""The typed-message machinery: JSON names, checks, unions, error paths and losslessness."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import pytest

from mcpws.core import mcp
from mcpws.core.errors import InvalidParams
from mcpws.core.mcp._model import EMPTY, Model, json_name, null_member


def _fault(cls: type[Model], value: Any) -> InvalidParams:
    with pytest.raises(InvalidParams) as exc_info:
        cls.from_json(value)
    assert exc_info.value.jsonrpc_code == -32602
    return exc_info.value


@pytest.mark.parametrize(
    ("attribute", "key"),
    [("name", "name"), ("input_schema", "inputSchema"), ("meta", "_meta"), ("ttl_ms", "ttlMs")],
)
def test_json_names_are_camel_case(attribute: str, key: str) -> None:
    assert json_name(attribute) == key


def test_unknown_members_are_kept_and_written_back() -> None:
    value = {"name": "t", "inputSchema": {"type": "object"}, "x-new": [1, {"a": None}]}
    tool = mcp.Tool.from_json(value)
    assert tool.extra == {"x-new": [1, {"a": None}]}
    assert tool.to_json() == value
    assert mcp.Tool.from_json({"name": "t", "inputSchema": {}}).extra is EMPTY


def test_a_null_optional_member_is_read_as_absent() -> None:
    tool = mcp.Tool.from_json({"name": "t", "inputSchema": {}, "title": None})
    assert tool.title is None
    assert tool.to_json() == {"name": "t", "inputSchema": {}}


@pytest.mark.parametrize(
    ("cls", "value", "path", "reason"),
    [
        (mcp.Tool, [], "", "must be an object"),
        (mcp.Tool, {"inputSchema": {}}, "name", "is required"),
        (mcp.Tool, {"name": None, "inputSchema": {}}, "name", "is required"),
        (mcp.Tool, {"name": 1, "inputSchema": {}}, "name", "must be a string"),
        (mcp.Tool, {"name": "t", "inputSchema": []}, "inputSchema", "must be an object"),
        (mcp.Resource, {"uri": "u", "name": "n", "size": True}, "size", "must be an integer"),
        (mcp.Resource, {"uri": "u", "name": "n", "size": 1.5}, "size", "must be an integer"),
        (mcp.ProgressNotificationParams, {"progressToken": 1, "progress": "1"}, "progress", None),
        (
            mcp.ProgressNotificationParams,
            {"progressToken": 1.5, "progress": 1},
            "progressToken",
            None,
        ),
        (mcp.CallToolResult, {"content": [], "isError": 1}, "isError", "must be a boolean"),
        (mcp.CallToolResult, {"content": {}}, "content", "must be an array"),
        (mcp.CallToolResult, {"content": [{"type": "text"}]}, "content[0].text", "is required"),
        (mcp.CallToolResult, {"content": [{"type": "video"}]}, "content[0].type", None),
        (mcp.CallToolResult, {"content": [{"type": 5}]}, "content[0].type", None),
        (mcp.CallToolResult, {"content": [{}]}, "content[0].type", None),
        (mcp.CallToolResult, {"content": [7]}, "content[0]", "must be an object"),
        (mcp.SetLevelRequestParams, {"level": "loud"}, "level", None),
        (mcp.SetLevelRequestParams, {"level": 3}, "level", None),
        (mcp.Icon, {"src": "s", "sizes": ["1", 2]}, "sizes", "must be an array of a string"),
        (mcp.GetPromptRequestParams, {"name": "p", "arguments": {"a": 1}}, "arguments.a", None),
        (mcp.GetPromptRequestParams, {"name": "p", "arguments": []}, "arguments", None),
        (mcp.CallToolRequestParams, {"name": "t", "inputResponses": []}, "inputResponses", None),
        (
            mcp.CreateMessageRequestParams,
            {"maxTokens": 1, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content[0].text",
            "is required",
        ),
        (
            mcp.CreateMessageRequestParams,
            {"maxTokens": 1, "messages": [{"role": "user", "content": 5}]},
            "messages[0].content",
            None,
        ),
    ],
)
def test_a_mismatch_names_the_member_at_fault(
    cls: type[Model], value: Any, path: str, reason: str | None
) -> None:
    fault = _fault(cls, value)
    assert fault.path == path
    if reason is not None:
        assert fault.reason == reason
    assert str(fault) == (f"{path}: {fault.reason}" if path else fault.reason)


def test_untagged_unions_take_the_first_type_that_fits() -> None:
    value = {"a": {"action": "decline"}, "b": {"roots": []}}
    params = mcp.CallToolRequestParams.from_json({"name": "t", "inputResponses": value})
    assert params.input_responses is not None
    assert isinstance(params.input_responses["a"], mcp.ElicitResult)
    assert isinstance(params.input_responses["b"], mcp.ListRootsResult)
    fault = _fault(mcp.CallToolRequestParams, {"name": "t", "inputResponses": {"c": {}}})
    assert fault.path == "inputResponses.c"
    assert "matches none of its types" in fault.reason
    assert "as ElicitResult, action: is required" in fault.reason


def test_a_value_union_takes_objects_arrays_and_plain_values() -> None:
    single = {"role": "user", "content": {"type": "text", "text": "hi"}}
    many = {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    for value in (single, many):
        assert mcp.SamplingMessage.from_json(value).to_json() == value
    answer = {"action": "accept", "content": {"s": "x", "n": 1, "f": 0.5, "b": True, "l": ["a"]}}
    assert mcp.ElicitResult.from_json(answer).to_json() == answer
    assert _fault(mcp.ElicitResult, {"action": "accept", "content": {"x": {}}}).path == "content.x"


def test_a_nullable_member_must_be_present_and_may_be_null() -> None:
    entry = {"level": "info", "data": None}
    decoded = mcp.LoggingMessageNotificationParams.from_json(entry)
    assert decoded.data is None
    assert decoded.to_json() == entry
    fault = _fault(mcp.LoggingMessageNotificationParams, {"level": "info"})
    assert (fault.path, fault.reason) == ("data", "is required (it may be null)")
    assert mcp.LoggingMessageNotificationParams(level="info", data=None).to_json() == entry


def test_a_url_elicitation_is_told_from_a_form_by_its_mode() -> None:
    form = mcp.decode_params(
        "elicitation/create", "2025-11-25", {"message": "m", "requestedSchema": {}}
    )
    url = mcp.decode_params(
        "elicitation/create", "2025-11-25", {"mode": "url", "message": "m", "url": "u"}
    )
    assert isinstance(form, mcp.ElicitRequestFormParams)
    assert isinstance(url, mcp.ElicitRequestURLParams)
    request = mcp.ElicitRequest.from_json({"method": "elicitation/create", "params": url.to_json()})
    assert request.params == url


class TestBuilding:
    def test_keyword_arguments_build_a_valid_model(self) -> None:
        result = mcp.CallToolResult(content=[mcp.TextContent(text="a")], is_error=False)
        assert result.to_json() == {"content": [{"type": "text", "text": "a"}], "isError": False}

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: mcp.TextContent(text=5), "TextContent.text must be a string, not 5"),  # type: ignore[arg-type]
            (
                lambda: mcp.Resource(uri="u", name="n", size=True),
                "Resource.size must be an integer",
            ),
            (lambda: mcp.Tool(name="t", input_schema=[]), "Tool.input_schema must be an object"),  # type: ignore[arg-type]
            (
                lambda: mcp.CallToolResult(content=[{"type": "text"}]),  # type: ignore[list-item]
                "CallToolResult.content must be",
            ),
            (lambda: mcp.Icon(src="s", theme="pink"), "Icon.theme must be 'light' or 'dark'"),  # type: ignore[arg-type]
            (lambda: mcp.TextContent(text=None), "TextContent.text is required"),  # type: ignore[arg-type]
            (
                lambda: mcp.SamplingMessage(role="user", content=3),  # type: ignore[arg-type]
                "SamplingMessage.content must be",
            ),
        ],
    )
    def test_a_wrong_argument_raises_type_error(self, build: Any, message: str) -> None:
        with pytest.raises(TypeError, match="^" + message.replace("(", r"\(")):
            build()

    def test_subclasses_and_nested_models_are_accepted(self) -> None:
        class Name(str):
            pass

        assert mcp.ProgressNotificationParams(progress_token=Name("t"), progress=1).progress == 1
        message = mcp.SamplingMessage(role="user", content=[mcp.TextContent(text="a")])
        assert message.to_json() == {"role": "user", "content": [{"type": "text", "text": "a"}]}
        assert mcp.ElicitResult(action="accept", content={"a": ["x"]}).content == {"a": ["x"]}
        answers: dict[str, mcp.InputResponse] = {"q": mcp.ElicitResult(action="decline")}
        params = mcp.CallToolRequestParams(name="t", input_responses=answers)
        assert params.to_json() == {"name": "t", "inputResponses": {"q": {"action": "decline"}}}
        with pytest.raises(TypeError, match="input_responses must be an object"):
            mcp.CallToolRequestParams(name="t", input_responses={"q": {"action": "decline"}})  # type: ignore[dict-item]

    def test_arrays_must_be_lists(self) -> None:
        with pytest.raises(TypeError, match=r"Icon\.sizes must be an array of a string"):
            mcp.Icon(src="s", sizes=("1x1",))  # type: ignore[arg-type]

    def test_extra_members_may_not_shadow_fields(self) -> None:
        with pytest.raises(ValueError, match=r"\['name'\] are fields of Tool"):
            mcp.Tool(name="t", input_schema={}, extra={"name": "u"})
        tool = mcp.Tool(name="t", input_schema={}, extra={"x-a": 1})
        assert tool.to_json() == {"name": "t", "inputSchema": {}, "x-a": 1}


def test_an_annotation_without_a_json_form_is_refused() -> None:
    @attrs.frozen(kw_only=True)
    class Odd(Model):
        values: set[int]

    with pytest.raises(TypeError, match="no JSON conversion"):
        Odd.from_json({"values": []})


def test_a_union_of_an_array_of_models_and_plain_values() -> None:
    @attrs.frozen(kw_only=True)
    class Mixed(Model):
        kind: Literal["mixed"] = "mixed"
        value: str | list[mcp.TextContent]

    for value in ("plain", [{"type": "text", "text": "a"}]):
        assert Mixed.from_json({"kind": "mixed", "value": value}).to_json() == {
            "kind": "mixed",
            "value": value,
        }
    assert _fault(Mixed, {"kind": "mixed", "value": {}}).path == "value"
    assert _fault(Mixed, {"kind": "mixed", "value": 1}).reason.startswith("must be a string or")


class TestMethodTable:
    def test_no_method_is_declared_twice_for_a_revision(self) -> None:
        from mcpws.core.mcp import _methods

        pairs = [(d.method, rev) for d in _methods._DECLARATIONS for rev in d.revisions]
        assert len(pairs) == len(set(pairs)) == len(mcp.METHODS)

    def test_the_table_knows_each_method_per_revision(self) -> None:
        assert mcp.method_spec("initialize", "2025-06-18") is not None
        assert mcp.method_spec("initialize", "2026-07-28") is None
        assert mcp.method_spec("server/discover", "2026-07-28") is not None
        assert mcp.method_spec("elicitation/create", "2025-03-26") is None
        spec = mcp.method_spec("tools/call", "2026-07-28")
        assert spec is not None
        assert (spec.kind, spec.direction) == (mcp.Kind.REQUEST, mcp.Direction.CLIENT_TO_SERVER)
        assert (spec.params, spec.result) == (mcp.CallToolRequestParams, mcp.CallToolResult)
        assert spec.input_required

    def test_every_request_names_its_capability_or_none(self) -> None:
        """A request's capability is a member its receiver's capabilities have in the
        revision (and at most a flag inside it), or :data:`mcp.NO_CAPABILITY` said outright;
        a notification's is always the latter."""
        receivers = ((mcp.ServerCapabilities, True), (mcp.ClientCapabilities, False))
        for (method, revision), spec in mcp.METHODS.items():
            capability = spec.capability
            if spec.kind is mcp.Kind.NOTIFICATION or capability is mcp.NO_CAPABILITY:
                assert capability is mcp.NO_CAPABILITY, method
                continue
            assert isinstance(capability, tuple), method
            assert 1 <= len(capability) <= 2, method
            assert all(isinstance(part, str) and part for part in capability), method
            for cls, by_client in receivers:
                if not spec.direction.allows(by_client):
                    continue
                field = attrs.fields_dict(cls).get(capability[0])
                assert field is not None, f"{cls.__name__} has no {capability[0]} for {method}"
                since = field.metadata.get("since") or revision
                until = field.metadata.get("until") or revision
                assert since <= revision <= until, f"{method} in {revision}: {capability[0]}"
        table = mcp.METHODS
        assert table["ping", "2025-03-26"].capability is mcp.NO_CAPABILITY
        assert table["completion/complete", "2024-11-05"].capability is mcp.NO_CAPABILITY
        assert table["completion/complete", "2025-03-26"].capability == ("completions",)
        assert table["resources/unsubscribe", "2025-11-25"].capability == ("resources", "subscribe")

    def test_a_request_cannot_be_declared_without_its_capability(self) -> None:
        from mcpws.core.mcp import _methods

        declare: Any = _methods._Request
        c2s, everywhere = mcp.Direction.CLIENT_TO_SERVER, ("2025-11-25",)
        with pytest.raises(TypeError, match="revisions"):
            declare("x/y", c2s, mcp.RequestParams, mcp.Result, everywhere)
        for wrong in (None, "", "a.b.c", "tools.", 1):
            with pytest.raises(ValueError, match=r"x/y: a capability is name or name\.flag"):
                declare("x/y", c2s, mcp.RequestParams, mcp.Result, wrong, everywhere)
        with pytest.raises(ValueError, match="x/y: task or input answers outside"):
            declare("x/y", c2s, mcp.RequestParams, mcp.Result, "tools", everywhere,
                    task_augmented=("2025-06-18",))  # fmt: skip
        none = declare("x/y", c2s, mcp.RequestParams, mcp.Result, mcp.NO_CAPABILITY, everywhere)
        assert none.spec("2025-11-25").capability is mcp.NO_CAPABILITY

    def test_the_table_refuses_declarations_that_disagree(self) -> None:
        from mcpws.core.mcp import _methods

        both, note = mcp.Direction.BOTH, _methods._Notification
        first = note("notifications/x", both, mcp.NotificationParams, ("2025-06-18",))
        again = note("notifications/x", both, mcp.NotificationParams, ("2025-06-18",))
        with pytest.raises(ValueError, match="notifications/x is declared twice in MCP 2025-06-18"):
            _methods._build([first, again])
        other = note("notifications/x", both, mcp.NotificationParams, ("2025-11-25",), utility=True)
        with pytest.raises(ValueError, match="notifications/x: its declarations disagree"):
            _methods._build([first, other])

    def test_utilities_and_reserved_methods_whatever_the_revision(self) -> None:
        from mcpws.core.mcp import _methods

        assert sorted(_methods.UTILITY_METHODS) == [
            "notifications/cancelled",
            "notifications/message",
            "notifications/progress",
            "ping",
        ]
        assert sorted(_methods.RESERVED_METHODS) == [
            "initialize",
            "notifications/cancelled",
            "notifications/initialized",
            "notifications/progress",
            "server/discover",
        ]
        for spec in mcp.METHODS.values():
            assert spec.utility is (spec.method in _methods.UTILITY_METHODS)
            assert spec.reserved is (spec.method in _methods.RESERVED_METHODS)

    def test_directions_say_who_may_send(self) -> None:
        assert mcp.Direction.BOTH.allows(True)
        assert mcp.Direction.BOTH.allows(False)
        assert mcp.Direction.CLIENT_TO_SERVER.allows(True)
        assert not mcp.Direction.CLIENT_TO_SERVER.allows(False)
        assert mcp.Direction.SERVER_TO_CLIENT.allows(False)

    def test_listing_filters_by_kind_and_sender(self) -> None:
        client_requests = {
            spec.method
            for spec in mcp.methods_of("2024-11-05", kind=mcp.Kind.REQUEST, sender_is_client=True)
        }
        assert {"tools/call", "ping"} <= client_requests
        assert "sampling/createMessage" not in client_requests
        assert all(s.revision == "2026-07-28" for s in mcp.methods_of("2026-07-28"))
        assert not any(s.method == "ping" for s in mcp.methods_of("2026-07-28"))

    def test_params_decode_through_the_table(self) -> None:
        assert mcp.decode_params("ping", "2025-03-26", None) == mcp.RequestParams()
        with pytest.raises(KeyError, match="ping does not exist in MCP 2026-07-28"):
            mcp.decode_params("ping", "2026-07-28", None)
        with pytest.raises(InvalidParams, match=r"^name: is required$"):
            mcp.decode_params("tools/call", "2025-06-18", None)

    def test_results_decode_through_the_table(self) -> None:
        call = {"content": [], "resultType": "complete"}
        assert isinstance(mcp.decode_result("tools/call", "2026-07-28", call), mcp.CallToolResult)
        more = {"resultType": "input_required", "requestState": "s"}
        decoded = mcp.decode_result("tools/call", "2026-07-28", more)
        assert isinstance(decoded, mcp.InputRequiredResult)
        assert decoded.to_json() == more
        task = {
            "task": {
                "taskId": "1",
                "status": "working",
                "createdAt": "c",
                "lastUpdatedAt": "l",
                "ttl": None,
            }
        }
        created = mcp.decode_result("tools/call", "2025-11-25", task)
        assert isinstance(created, mcp.CreateTaskResult)
        assert created.to_json() == task
        assert mcp.decode_result("ping", "2024-11-05", {}) == mcp.Result()
        with pytest.raises(InvalidParams, match="a result must be an object"):
            mcp.decode_result("ping", "2024-11-05", [])
        with pytest.raises(KeyError, match="notification"):
            mcp.decode_result("notifications/progress", "2024-11-05", {})

    def test_error_data_types(self) -> None:
        data = {"requested": "1999-01-01", "supported": ["2026-07-28"]}
        assert mcp.UnsupportedProtocolVersionData.from_json(data).to_json() == data
        assert (mcp.HEADER_MISMATCH, mcp.MISSING_REQUIRED_CLIENT_CAPABILITY) == (-32020, -32021)
        assert (mcp.UNSUPPORTED_PROTOCOL_VERSION, mcp.URL_ELICITATION_REQUIRED) == (-32022, -32042)


def test_the_repr_shows_the_members_that_are_set_own_ones_first() -> None:
    params = mcp.CallToolRequestParams(name="t", meta={"progressToken": 1})
    assert repr(params) == "CallToolRequestParams(name='t', meta={'progressToken': 1})"
    entry = mcp.LoggingMessageNotificationParams(level="info", data=None)
    assert repr(entry) == "LoggingMessageNotificationParams(level='info', data=None)"
    content = mcp.TextContent.from_json({"type": "text", "text": "a", "x-new": 1})
    assert repr(content) == "TextContent(type='text', text='a', extra={'x-new': 1})"


def test_json_members_come_in_declaration_order_own_ones_first() -> None:
    page = mcp.ListToolsResult(tools=[], next_cursor="c", ttl_ms=5, meta={})
    assert list(page.to_json()) == ["tools", "nextCursor", "ttlMs", "_meta"]


@pytest.mark.parametrize("value", [[1, "a"], "text", 3, {"a": None}])
def test_a_member_of_any_type_takes_any_json_value(value: Any) -> None:
    result = mcp.CallToolResult.from_json({"content": [], "structuredContent": value})
    assert result.structured_content == value
    assert result.to_json() == {"content": [], "structuredContent": value}


# JSON null in 2026-07-28 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "path"),
    [
        ("tools/call", {"name": "t", "inputResponses": None}, "inputResponses"),
        ("tools/call", {"name": "t", "requestState": None}, "requestState"),
        ("tools/call", {"name": None}, "name"),
        ("prompts/get", {"name": "p", "arguments": None}, "arguments"),
        ("resources/read", {"uri": "u", "_meta": None}, "_meta"),
        (
            "subscriptions/listen",
            {"notifications": {"toolsListChanged": None}},
            "notifications.toolsListChanged",
        ),
    ],
)
def test_a_null_where_the_schema_says_object_is_refused_in_2026_07_28(
    method: str, params: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidParams) as caught:
        mcp.decode_params(method, "2026-07-28", params)
    assert str(caught.value) == f"{path}: must not be null"
    if method != "subscriptions/listen":  # before 2026-07-28, a null is an absent member
        mcp.decode_params(method, "2025-11-25", {**params, "name": "n", "uri": "u"})


def test_null_stays_allowed_where_json_is_free_or_undeclared() -> None:
    decoded = mcp.decode_params(
        "tools/call", "2026-07-28", {"name": "t", "arguments": {"a": None}, "x-vendor": None}
    )
    assert isinstance(decoded, mcp.CallToolRequestParams)
    assert decoded.arguments == {"a": None}
    assert decoded.extra == {"x-vendor": None}
    assert null_member(mcp.CallToolRequestParams, ["not", "an", "object"]) is None


def test_a_tool_result_and_a_resource_give_their_text() -> None:
    called = mcp.CallToolResult(
        content=[
            mcp.TextContent(text="a"),
            mcp.ImageContent(data="AA==", mime_type="image/png"),
            mcp.TextContent(text="b"),
        ]
    )
    assert called.text == "a\nb"
    assert mcp.CallToolResult(content=[]).text == ""
    read = mcp.ReadResourceResult(
        contents=[
            mcp.TextResourceContents(uri="u", text="t"),
            mcp.BlobResourceContents(uri="u", blob="AA=="),
        ]
    )
    assert read.text == "t"
    assert "text" not in called.to_json()
