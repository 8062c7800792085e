"""The `tratos` console script: the command line, loaded under Ctrl-C's own words.

Loading the command line (click, eventsourcing's and tratos' modules) takes the first tenth of a
second of every command; Ctrl-C then came as Python's traceback of an import, and another ending
signal as the system's 143. Here both are the one line every later interruption gets (cli.main),
exit 1, and nothing was recorded: no command ran.
"""

import sys


def run() -> None:
    try:
        from domain.adapters.interruptions import taken_while_loading

        taken_while_loading()
        # decimal loaded whole here: stopped while loading later, its C part warns on stderr when loaded again
        import decimal  # noqa: F401

        from cli.main import main

        main(process_ends=True)  # which takes the signals over as it starts the command
    except KeyboardInterrupt:
        sys.stderr.write("error: aborted\n")
        sys.exit(1)
