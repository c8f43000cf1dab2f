"""A hostile OpenAI-compatible server: model ids, answers and error bodies built to
drive a terminal (rich markup, OSC 52 clipboard writes, OSC 8 links, CSI colours,
window titles, newlines, RTL override, a 100 KB id).

`hostile_provider(home)` starts a loopback FakeProvider that lists HOSTILE_IDS and
answers every chat request with HOSTILE_ANSWER (streamed or not), and writes a
config.toml naming it provider `evil` (keyless).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fake_provider import Behavior, FakeProvider

ESC = "\x1b"
OSC52 = f"{ESC}]52;c;aGFja2Vk\x07"  # write "hacked" to the clipboard
OSC8 = f"{ESC}]8;;file:///etc/passwd{ESC}\\click{ESC}]8;;{ESC}\\"
CSI_RED = f"{ESC}[31m"
TITLE = f"{ESC}]0;pwned\x07"
MARKUP = "[bold red]RED[/bold red]"
LINK_MARKUP = "[link=file:///etc/passwd]click[/link]"
RLO = "\u202e"
C1_CSI = "\x9b31m"

# Short, readable ids first; the 100 KB one last.
HOSTILE_IDS = [
    f"evil-{MARKUP}",
    f"evil-{LINK_MARKUP}",
    f"evil-title{TITLE}",
    f"evil-{CSI_RED}red",
    "evil-new\nline",
    f"evil-rtl{RLO}txt.exe",
    f"evil-c1{C1_CSI}",
    "evil-" + "x" * 100_000,
]
# Ids that are safe to pass as --model (no newline, no ESC that a shell would mangle).
CHAT_ID = f"evil-{MARKUP}"

HOSTILE_ANSWER = (
    f"plain start {MARKUP} {OSC52}{OSC8} {CSI_RED}coloured{ESC}[0m {TITLE} "
    f"{RLO}rtl {C1_CSI}c1 end\n"
)
HOSTILE_ERROR = f"upstream {MARKUP} {OSC52} {CSI_RED}failed"


@contextmanager
def hostile_provider(home: Path) -> Iterator[FakeProvider]:
    """Start the hostile server and configure it as keyless provider `evil`."""
    with FakeProvider(models=HOSTILE_IDS) as fake:
        fake.always(None, Behavior(text=HOSTILE_ANSWER, chunks=_chunks(HOSTILE_ANSWER)))
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = home / "config.toml"
        config.write_text(f'[providers.evil]\nbase_url = "{fake.base_url}"\nneeds_key = false\n')
        config.chmod(0o600)
        yield fake


def _chunks(text: str, size: int = 7) -> list[str]:
    """Split so that escape sequences straddle chunk boundaries."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def assert_no_provider_escapes(shown: bytes) -> None:
    """No escape sequence from provider data reached the terminal."""
    for seq in (OSC52, OSC8, CSI_RED, TITLE, C1_CSI, RLO):
        assert seq.encode() not in shown, seq.encode()
    assert b"\x1b]" not in shown  # no OSC at all (jarvis itself never sends one)
    assert "\x9b".encode() not in shown
    assert RLO.encode() not in shown
