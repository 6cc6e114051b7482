"""Shared fixtures for the official-SDK tests.

These tests talk to a running TapPass gateway. `cargo test --test sdk_python` starts one (with
the fake upstream behind it) and sets:

- TAPPASS_TEST_URL: the gateway base URL, e.g. http://127.0.0.1:PORT
- TAPPASS_TEST_AGENT_KEY: an agent key (tp_...)

The clients are configured exactly as a user would: only base_url and api_key change.
"""

import os

import anthropic
import openai
import pytest

BAD_KEY = "tp_zzzzzzzzzzzz_0123456789abcdef0123456789abcdef"

# One tool, declared in each SDK's own format. The fake upstream calls the first declared tool
# with {"query": <last user text>}.
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look something up.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "lookup",
        "description": "Look something up.",
        "input_schema": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    }
]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: run these tests through `cargo test --test sdk_python`")
    return value


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return _env("TAPPASS_TEST_URL").rstrip("/")


@pytest.fixture(scope="session")
def agent_key() -> str:
    return _env("TAPPASS_TEST_AGENT_KEY")


@pytest.fixture(scope="session")
def oai(gateway_url: str, agent_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway_url + "/v1", api_key=agent_key, max_retries=0)


@pytest.fixture(scope="session")
def ant(gateway_url: str, agent_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway_url, api_key=agent_key, max_retries=0)
