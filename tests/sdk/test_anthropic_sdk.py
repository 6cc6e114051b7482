"""The official `anthropic` Python SDK against TapPass, with only base_url and api_key changed."""

import anthropic
import pytest

from conftest import ANTHROPIC_TOOLS, BAD_KEY

MODEL = "claude-3-5-haiku-latest"
MAX_TOKENS = 256


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def test_plain_message(ant: anthropic.Anthropic) -> None:
    msg = ant.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user("bonjour sdk"))
    assert msg.type == "message"
    assert msg.role == "assistant"
    assert msg.stop_reason == "end_turn"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "echo: bonjour sdk"
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 0
    extra = msg.model_extra or {}
    assert extra.get("tappass", {}).get("audit_id", "").startswith("aud_"), extra


def test_raw_response_has_request_id(ant: anthropic.Anthropic) -> None:
    raw = ant.messages.with_raw_response.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user("raw bonjour")
    )
    assert raw.headers.get("x-request-id")
    assert raw.parse().content[0].text == "echo: raw bonjour"


def test_streaming_events(ant: anthropic.Anthropic) -> None:
    stream = ant.messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user("stream bonjour please"), stream=True
    )
    parts = []
    types = []
    output_tokens = 0
    for event in stream:
        types.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            parts.append(event.delta.text)
        if event.type == "message_delta":
            assert event.delta.stop_reason == "end_turn"
            output_tokens = event.usage.output_tokens
    assert "".join(parts) == "echo: stream bonjour please"
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    assert output_tokens > 0


def test_streaming_helper_text(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user("helper stream")
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "echo: helper stream"
    assert final.content[0].text == "echo: helper stream"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0


def test_tool_use(ant: anthropic.Anthropic) -> None:
    msg = ant.messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=user("weather in Ghent"), tools=ANTHROPIC_TOOLS
    )
    assert msg.stop_reason == "tool_use"
    tool_uses = [b for b in msg.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    block = tool_uses[0]
    assert block.id
    assert block.name == "lookup"
    assert block.input == {"query": "weather in Ghent"}


def test_tool_use_streaming(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(
        model=MODEL,
        max_tokens=MAX_TOKENS,
        messages=user("stream a tool call"),
        tools=ANTHROPIC_TOOLS,
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    tool_uses = [b for b in final.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    assert tool_uses[0].name == "lookup"
    assert tool_uses[0].input == {"query": "stream a tool call"}
    assert final.usage.output_tokens > 0


def test_tool_result_follow_up(ant: anthropic.Anthropic) -> None:
    messages = user("what is the capital of Belgium")
    first = ant.messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=messages, tools=ANTHROPIC_TOOLS
    )
    block = next(b for b in first.content if b.type == "tool_use")
    messages = messages + [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "Brussels"}],
        },
    ]
    second = ant.messages.create(
        model=MODEL, max_tokens=MAX_TOKENS, messages=messages, tools=ANTHROPIC_TOOLS
    )
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    assert second.content[0].text == "echo: tool result received"


def test_bad_key_is_authentication_error(gateway_url: str) -> None:
    bad = anthropic.Anthropic(base_url=gateway_url, api_key=BAD_KEY, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as exc:
        bad.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=user("hi"))
    assert exc.value.status_code == 401
    assert exc.value.body["error"]["type"] == "authentication_error"


def test_unknown_model_is_not_found(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as exc:
        ant.messages.create(model="nosuch/x", max_tokens=MAX_TOKENS, messages=user("hi"))
    assert exc.value.status_code == 404
    assert exc.value.body["error"]["type"] == "not_found_error"
