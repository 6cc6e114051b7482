"""The official `openai` Python SDK against TapPass, with only base_url and api_key changed."""

import json

import openai
import pytest

from conftest import BAD_KEY, OPENAI_TOOLS

MODEL = "gpt-4o-mini"


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def test_plain_chat(oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(model=MODEL, messages=user("hello from the sdk"))
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: hello from the sdk"
    assert choice.finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.prompt_tokens > 0
    assert resp.usage.completion_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    # The gateway's own data rides along as an extra field the SDK keeps.
    extra = resp.model_extra or {}
    assert "tappass" in extra, f"no tappass field in {extra!r}"
    assert extra["tappass"]["audit_id"].startswith("aud_")
    assert extra["tappass"]["blocked"] is False


def test_raw_response_has_request_id(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(model=MODEL, messages=user("raw please"))
    assert raw.http_request.url.path == "/v1/chat/completions"
    request_id = raw.headers.get("x-request-id")
    assert request_id, f"no x-request-id in {dict(raw.headers)!r}"
    resp = raw.parse()
    assert resp.choices[0].message.content == "echo: raw please"
    assert resp.model_extra["tappass"]["request_id"] == request_id


def test_client_request_id_is_echoed(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model=MODEL,
        messages=user("mine"),
        extra_headers={"x-request-id": "sdk-req-1"},
    )
    assert raw.headers["x-request-id"] == "sdk-req-1"


# Long enough to outgrow the gateway's output-scanning hold-back (128 bytes + the trailing
# word), so the answer really arrives in several deltas.
LONG = " ".join(f"word{i}" for i in range(80))


def test_streaming(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=MODEL, messages=user(LONG), stream=True
    )
    parts = []
    finish = None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    assert "".join(parts) == "echo: " + LONG
    assert len(parts) > 1, "expected the answer in several deltas"
    assert finish == "stop"


def test_streaming_with_usage(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=MODEL,
        messages=user("count my tokens"),
        stream=True,
        stream_options={"include_usage": True},
    )
    parts = []
    usage = None
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
        if chunk.usage is not None:
            assert chunk.choices == [], "the usage chunk has no choices"
            usage = chunk.usage
    assert "".join(parts) == "echo: count my tokens"
    assert usage is not None, "no usage chunk arrived"
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0


def test_tool_call(oai: openai.OpenAI) -> None:
    resp = oai.chat.completions.create(
        model=MODEL, messages=user("weather in Ghent"), tools=OPENAI_TOOLS
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"query": "weather in Ghent"}


def test_tool_call_streaming(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model=MODEL, messages=user("stream a tool call"), tools=OPENAI_TOOLS, stream=True
    )
    calls: dict = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function and tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    slot["arguments"] += tc.function.arguments
            if choice.finish_reason:
                finish = choice.finish_reason
    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["id"]
    assert calls[0]["name"] == "lookup"
    assert json.loads(calls[0]["arguments"]) == {"query": "stream a tool call"}


def test_tool_result_follow_up(oai: openai.OpenAI) -> None:
    messages = user("what is the capital of Belgium")
    first = oai.chat.completions.create(model=MODEL, messages=messages, tools=OPENAI_TOOLS)
    call = first.choices[0].message.tool_calls[0]
    messages = messages + [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Brussels"},
    ]
    second = oai.chat.completions.create(model=MODEL, messages=messages, tools=OPENAI_TOOLS)
    choice = second.choices[0]
    assert choice.finish_reason == "stop"
    assert not choice.message.tool_calls
    assert choice.message.content == "echo: tool result received"


def test_models_list(oai: openai.OpenAI) -> None:
    models = list(oai.models.list())
    assert models, "no models listed"
    for m in models:
        assert m.object == "model"
        assert m.id


def test_bad_key_is_authentication_error(gateway_url: str) -> None:
    bad = openai.OpenAI(base_url=gateway_url + "/v1", api_key=BAD_KEY, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        bad.chat.completions.create(model=MODEL, messages=user("hi"))
    assert exc.value.status_code == 401
    assert exc.value.code == "invalid_api_key"
    assert exc.value.response.headers.get("x-request-id")


def test_unknown_model_is_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        oai.chat.completions.create(model="nosuch/x", messages=user("hi"))
    assert exc.value.status_code == 404
    assert exc.value.code == "model_not_found"
    assert "nosuch/x" in exc.value.message
