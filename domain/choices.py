"""The fixed words commands accept, kept import-free so the command line can offer them cheaply."""

FAULTS: tuple[str, ...] = ("ours", "client", "shared", "misunderstanding", "unassigned")
SIGN_METHODS: tuple[str, ...] = ("pades", "email", "ink", "typed")
