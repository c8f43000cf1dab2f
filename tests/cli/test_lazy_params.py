"""Options parse as their types say: given values are checked, pairs take two."""

from __future__ import annotations

import pytest

from jarvis_cli.cli import build_command


def _parse(args: list[str]) -> dict[str, object]:
    command = build_command("complete")
    return command.make_context("complete", args).params


def test_options_keep_their_defaults_and_given_values_their_types() -> None:
    params = _parse(["hi", "--max-tokens", "7", "--fallback", "a/b", "--no-stream"])
    assert params["prompt"] == "hi" and params["stream"] is False
    assert params["max_tokens"] == 7 and isinstance(params["max_tokens"], int)
    assert list(params["fallback"]) == ["a/b"]  # type: ignore[call-overload]
    assert params["model"] is None and params["temperature"] is None
    assert not params["capability"]


def test_a_given_value_is_still_checked(jarvis) -> None:  # type: ignore[no-untyped-def]
    bad = jarvis("complete", "hi", "--temperature", "5")
    assert bad.returncode == 2
    assert "Invalid value for '--temperature'" in bad.stderr
    worse = jarvis("complete", "hi", "--max-tokens", "many")
    assert worse.returncode == 2
    assert "Invalid value for '--max-tokens'" in worse.stderr and "'many'" in worse.stderr


@pytest.mark.parametrize("args", [["hi", "-p", "k", "v", "-p", "x", "y"]])
def test_pair_options_still_take_two_values(args: list[str]) -> None:
    params = _parse(args)
    assert [tuple(p) for p in params["param"]] == [("k", "v"), ("x", "y")]  # type: ignore[attr-defined]


def test_an_enum_option_takes_its_default_and_a_given_choice() -> None:
    def kind(*args: str) -> object:
        return build_command("select").make_context("select", ["hi", *args]).params["kind"]

    default, given = kind(), kind("--type", "embedding")
    assert getattr(default, "value", default) == "chat"
    assert getattr(given, "value", given) == "embedding"
    with pytest.raises(Exception, match="'nonsense' is not one of"):
        kind("--type", "nonsense")
