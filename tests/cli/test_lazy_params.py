"""Options that were not given build no coercion (issue 28), and given ones still coerce."""

from __future__ import annotations

import pytest

from jarvis_cli.cli import build_command


def _parse(args: list[str]) -> tuple[dict[str, object], object]:
    command = build_command("complete")
    ctx = command.make_context("complete", args)
    return ctx.params, command


def test_options_not_given_keep_their_defaults_without_building_a_coercion() -> None:
    params, command = _parse(["hi", "--max-tokens", "7", "--fallback", "a/b", "--no-stream"])
    assert params["prompt"] == "hi" and params["stream"] is False
    assert params["max_tokens"] == 7 and isinstance(params["max_tokens"], int)
    assert list(params["fallback"]) == ["a/b"]  # type: ignore[call-overload]
    assert params["model"] is None and params["temperature"] is None
    assert not params["capability"]
    built = {
        p.name
        for p in command.params  # type: ignore[attr-defined]
        if getattr(p, "_runtime_param", None) is not None
        and getattr(p._runtime_param, "_real", "typer's own") is not None
    }
    # Only options that got a value needing conversion paid for one: a str or bool
    # value for a plain str / bool parameter is already what the adapter would return.
    assert {"max_tokens", "fallback"} <= built
    assert not built & {"prompt", "stream", "model", "temperature", "schema"}


def test_a_given_value_is_still_checked(jarvis) -> None:  # type: ignore[no-untyped-def]
    bad = jarvis("complete", "hi", "--temperature", "5")
    assert bad.returncode == 2
    assert "Invalid value for '--temperature'" in bad.stderr
    worse = jarvis("complete", "hi", "--max-tokens", "many")
    assert worse.returncode == 2
    assert "--max-tokens" in worse.stderr and "integer" in worse.stderr


@pytest.mark.parametrize("args", [["hi", "-p", "k", "v", "-p", "x", "y"]])
def test_pair_options_still_take_two_values(args: list[str]) -> None:
    params, _ = _parse(args)
    assert [tuple(p) for p in params["param"]] == [("k", "v"), ("x", "y")]  # type: ignore[attr-defined]


def test_an_enum_default_builds_no_coercion_and_a_given_choice_still_does() -> None:
    command = build_command("select")
    params = command.make_context("select", ["hi", "--json"]).params
    assert params["kind"].value == "chat"  # the default member, passed through
    built = {
        p.name
        for p in command.params  # type: ignore[attr-defined]
        if getattr(getattr(p, "_runtime_param", None), "_real", "typer's own") is not None
    }
    assert "kind" not in built
    given = build_command("select").make_context("select", ["hi", "--type", "embedding"]).params
    assert given["kind"].value == "embedding"
    with pytest.raises(Exception, match="'nonsense' is not one of"):
        build_command("select").make_context("select", ["hi", "--type", "nonsense"])
