"""The fixed words and defaults of the record, kept import-free so the command line and the
read models can use them without building the domain's models."""

FAULTS: tuple[str, ...] = ("ours", "client", "shared", "misunderstanding", "unassigned")
SIGN_METHODS: tuple[str, ...] = ("pades", "email", "ink", "typed")
DEFAULT_RESPONSE_DAYS = 2  # days the freelancer promises to answer within, unless the terms say
DEFAULT_PAYMENT_METHOD = "bank transfer"
DEFAULT_SERIES = "F"  # invoice numbers F-2026-001, ...
DEFAULT_CORRECTIVE_SERIES = "R"  # corrective invoices R-2026-001, ...
