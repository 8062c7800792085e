"""The fixed words and defaults of the record, kept import-free so the command line and the
read models can use them without building the domain's models."""

FAULTS: tuple[str, ...] = ("ours", "client", "shared", "misunderstanding", "unassigned")
SIGN_METHODS: tuple[str, ...] = ("pades", "email", "ink", "typed")
DEFAULT_RESPONSE_DAYS = 2  # days the freelancer promises to answer within, unless the terms say
DEFAULT_PAYMENT_METHOD = "bank transfer"
DEFAULT_SERIES = "F"  # invoice numbers F-2026-001, ...
DEFAULT_CORRECTIVE_SERIES = "R"  # corrective invoices R-2026-001, ...
# The documents tratos prints (documents/context.py KINDS, and the invoice), and their languages.
DOCUMENT_KINDS: tuple[str, ...] = ("terms", "contract", "change", "incident", "reminder", "closing", "dossier",
                                   "invoice")
DOCUMENT_LANGUAGES: tuple[str, ...] = ("es", "en")
# The bounds of every number a command records (ADR-35): large enough for any real project,
# small enough that sums and dates stay exact and every store column (a 64-bit integer) holds them.
MAX_CHANGE_DAYS = 3650  # days a change adds to a contract's end: ten years
MAX_HOURS = 100_000  # hours of a budget, a change or a remedy: fifty working years
