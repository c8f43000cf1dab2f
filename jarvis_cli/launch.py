"""The `jarvis` script and `python -m jarvis_cli`: tune the process, then run the CLI.

The GC threshold (jarvis_cli.GC_GEN0_THRESHOLD) is raised here, before the CLI's
modules and typer are imported: raised only in `cli.main`, after them, a `select
--json` spent ~2 ms more scanning for cycles among objects that all live to the end.
"""

import gc

from jarvis_cli import GC_GEN0_THRESHOLD


def main() -> None:
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    from jarvis_cli.cli import main as cli_main

    cli_main()
