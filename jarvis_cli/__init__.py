"""jarvis: orchestrate LLM providers from the command line."""

__version__ = "0.1.0"

# The cyclic GC's first generation is scanned every 700 net allocations by default; while
# a command imports the SDK (thousands of pydantic classes, all long-lived) that is ~14 %
# of the import's CPU. A one-shot CLI process gains from scanning far less often; a
# long-running one (chat, batch) still collects, after every 50,000 allocations. Set by
# `launch.main` before anything else is imported (typer's import alone cost ~2 ms of GC
# scans at the default), and again by `cli.main`.
GC_GEN0_THRESHOLD = 50_000
