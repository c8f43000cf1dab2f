"""The one redaction function: registered secrets, secret-shaped tokens, URL passwords;
and the things that must stay visible."""

from __future__ import annotations

import base64
import secrets

import pytest

from jarvis_cli.core.redact import (
    REDACTED,
    looks_like_secret,
    mask_url,
    redact,
    register_secret,
    secret_shaped,
)

# One realistic key per known prefix (random tails, lengths as the providers issue them).
PREFIXED_KEYS = {
    "sk-": "sk-" + secrets.token_urlsafe(36),
    "sk-ant-": "sk-ant-api03-" + secrets.token_urlsafe(70),
    "sk-proj-": "sk-proj-" + secrets.token_urlsafe(120),
    "gsk_": "gsk_" + secrets.token_urlsafe(39),
    "AIza": "AIzaSy" + secrets.token_urlsafe(25),
    "xai-": "xai-" + secrets.token_urlsafe(60),
    "sk- canary": "sk-CANARY-" + secrets.token_hex(8),
}


@pytest.mark.parametrize("prefix", list(PREFIXED_KEYS))
def test_each_known_key_prefix_is_redacted(prefix: str) -> None:
    key = PREFIXED_KEYS[prefix]
    text = f"error: unknown provider '{key}'"
    assert looks_like_secret(text)
    assert secret_shaped(text) == [key]
    assert redact(text) == f"error: unknown provider '{REDACTED}'"


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_hex(8) + "Zq" + secrets.token_hex(8),  # mixed, no known prefix
        base64.b64encode(secrets.token_bytes(32)).decode(),  # a master key
        "fw_" + "a1B2c3D4e5F6g7H8i9J0kLmN",
        "ghp_" + "Xy3q9ZpL0wVbN7kRtU2sMa4CdE",
    ],
    ids=["mixed", "base64-32-bytes", "fireworks-like", "github-like"],
)
def test_long_high_entropy_tokens_are_redacted(token: str) -> None:
    assert looks_like_secret(token)
    assert redact(f"got {token}.") == f"got {REDACTED}."


@pytest.mark.parametrize(
    "token",
    [
        # drawn by the test above in a CI run: `/` cuts it into parts none of which
        # holds a digit, which the part rules missed (44 random keys in 10,000)
        "UiKZG4GGr/XKSHIsmiwmoABQWzxyswY+uhA/nI0T2NU=",
        "rBBYJQSUkMeGJwPgHJgksjIimrJTcnt+ESIKydgTWkY=",  # no digit at all
    ],
)
def test_a_padded_base64_key_is_redacted_however_its_slashes_cut_it(token: str) -> None:
    assert looks_like_secret(token)
    assert redact(f"key {token} rejected") == f"key {REDACTED} rejected"


@pytest.mark.parametrize(
    "text",
    ["/api/v1/organizations/OrgName/projects/ProjectName/models", "SGVsbG8gV29ybGQ=",
     "thisIsAVeryLongCamelCaseIdentifierName="],
)  # fmt: skip
def test_paths_and_short_base64_are_not_keys(text: str) -> None:
    assert not looks_like_secret(text)


def test_prefixed_key_inside_an_authorization_header_is_redacted() -> None:
    key = PREFIXED_KEYS["sk-proj-"]
    assert redact(f"Incorrect API key provided: Bearer {key}") == (
        f"Incorrect API key provided: Bearer {REDACTED}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "openai",
        "my-vllm",
        "default",
        "ci-backup-2024",  # a label
        "sk-test",  # too short to be a key
        "sk-…abcd",  # a fingerprint
        "gpt-4o-mini-2024-07-18",
        "claude-3-5-sonnet-20241022",
        "openrouter/meta-llama/Llama-3.1-70B-Instruct-Turbo",
        "together/deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        "fireworks/accounts/fireworks/models/llama-v3p1-405b-instruct",
        "ft:gpt-4o-mini-2024-07-18:my-org:custom-suffix:9abcDEF1",
        "SentenceTransformers-all-MiniLM-L6-v2",
        "text-embedding-3-large",
        "http://127.0.0.1:8080/v1",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "/tmp/pytest-of-root/pytest-12/test_something_long_name0/home/config.toml",
        "JARVIS_OPENROUTER_API_KEY",
        "/home/u/.cache/hub/models--BAAI--bge/snapshots/5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
        # a hex fingerprint / master key id (a fixed test id: xdist workers must collect alike)
        pytest.param(secrets.token_hex(32), id="random-hex-64"),
        "550e8400-e29b-41d4-a716-446655440000",
        "1700000000000000000000000",
        "ThisIsAVeryLongIdentifierWithoutAnyDigits",
    ],
)
def test_ordinary_names_ids_urls_paths_and_fingerprints_stay_visible(text: str) -> None:
    assert not looks_like_secret(text)
    assert redact(text) == text


def test_url_password_is_masked_and_the_rest_kept() -> None:
    assert mask_url("http://user:PASS@host/v1") == "http://user:***@host/v1"
    assert mask_url("https://u:p@ss@h.example:8443/x y") == "https://u:***@h.example:8443/x y"
    assert mask_url("http://host:8080/v1") == "http://host:8080/v1"
    assert mask_url("http://user@host/v1") == "http://user@host/v1"
    assert redact("bad --base-url 'http://bob:hunter2-xyz@box/v1'") == (
        "bad --base-url 'http://bob:***@box/v1'"
    )
    assert looks_like_secret("http://bob:hunter2@box/v1")


def test_registered_secret_is_redacted_even_when_it_looks_ordinary() -> None:
    value = "plainwordsecret"
    assert redact(value) == value
    register_secret(value)
    assert redact(f"x {value} y") == f"x {REDACTED} y"


def test_query_parameter_credentials_are_redacted() -> None:
    # issue 27: a provider's error body echoing the request URL with Gemini's ?key=.
    body = (
        "400 for url https://generativelanguage.example/v1beta/models/x:generate?key=abc123short"
        "&alt=sse and /v1?api_key=plainword; sig=zzz &token=t0k"
    )
    out = redact(body)
    assert "abc123short" not in out and "plainword" not in out and "t0k" not in out
    assert "?key=[REDACTED]&alt=sse" in out
    assert "?api_key=[REDACTED];" in out
    assert (
        redact("the key=value of a dict and ?monkey=1") == "the key=value of a dict and ?monkey=1"
    )


def test_a_registered_secret_split_across_stream_pieces_is_still_scrubbed() -> None:
    import random

    from jarvis_cli.core.redact import SecretScrubber, scrub_secrets

    # Registered for the rest of this process: a fixed first letter no other test's
    # stream starts a piece with (a held-back piece would change what they see).
    key = "Q" + secrets.token_hex(20)
    register_secret(key)
    b64 = base64.b64encode(key.encode()).decode().rstrip("=")
    text = f"a {key} b {key[:-1]} c {b64}{key} d {key[:7]}"
    whole = scrub_secrets(text)
    assert key not in whole and b64 not in whole
    assert f"{key[:-1]} c" in whole and whole.endswith(f"d {key[:7]}")  # near misses stay
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 30)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        scrubber = SecretScrubber()
        shown = "".join(scrubber.feed(p) for p in pieces) + scrubber.flush()
        assert shown == whole
