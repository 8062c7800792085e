"""The `tratos` console script: the command line, loaded under Ctrl-C's own words.

Loading the command line (click, eventsourcing's and tratos' modules) takes the first tenth of a
second of every command; Ctrl-C then came as Python's traceback of an import. Here it is the one
line every later interruption gets (cli.main), exit 1, and nothing was recorded: no command ran.
"""

import sys


def run() -> None:
    try:
        # decimal loaded whole here: stopped while loading later, its C part warns on stderr when loaded again
        import decimal  # noqa: F401

        from cli.main import main
    except KeyboardInterrupt:
        sys.stderr.write("error: aborted\n")
        sys.exit(1)
    main(process_ends=True)
