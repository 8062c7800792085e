"""The read-model tables: one portable definition, DDL for SQLite and PostgreSQL.

Money is stored as TEXT decimal strings next to a currency column (never a
float), dates as ISO TEXT (so `due < ?` compares correctly in both databases),
booleans as INTEGER 0/1, JSON as TEXT. Every table but `meta` is keyed by the
relationship's stream id (32 hex digits) first, so reading one client is an
index range scan whatever the size of the store.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bump when a table changes: read models of an older schema are dropped and
# rebuilt from the log on first use (they are disposable; the log is not).
SCHEMA_VERSION = 4  # 4: invoices keep their taxes (billing), clients their country; 2: the timeline keeps what each event said, worded when read
#                    3: relationships.last_on is the latest business date of its events (ADR-26)
TRACKING_NAME = "read_models"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    integers: frozenset[str] = frozenset()
    append_only: bool = False

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.key)


def _table(name: str, key: str, columns: str, integers: str = "", append_only: bool = False) -> Table:
    keys = tuple(key.split())
    return Table(name, keys + tuple(c for c in columns.split() if c not in keys), keys,
                 frozenset(integers.split()), append_only)


RELATIONSHIPS = _table(
    "relationships", "stream",
    "handle name email tax_id address country state opened_on terms_version current_contract currency"
    " contract_total invoiced paid other_balances open_changes open_mistakes ended_on ended_by"
    " end_reason end_outstanding confidentiality version last_on",
    integers="terms_version open_changes open_mistakes version",
)
CONTRACTS = _table(
    "contracts", "stream id",
    "title state price currency changes_total hours_budget extra_hours hours_logged start_on end_on"
    " extra_days terms_version drafted_on signed_us_by signed_us_on signed_us_method signed_client_by"
    " signed_client_on signed_client_method completed_on superseded_by",
    integers="extra_days terms_version",
)
TERMS = _table("terms", "stream version", "published_on data", integers="version")
INSTALLMENTS = _table(
    "installments", "stream contract n", "amount currency due percent invoice", integers="n",
)
INVOICES = _table(
    "invoices", "stream number",
    "contract amount currency paid open issued_on due installment change_id concept terms_version"
    " late_since late_outstanding reminders last_reminder_on last_reminder_fee billing",
    integers="open installment terms_version reminders",
)
CHANGES = _table(
    "changes", "stream id",
    "contract description requested_by requested_on state price currency hours days quoted_on decided_on",
    integers="days",
)
MISTAKES = _table(
    "mistakes", "stream id",
    "contract description reported_by reported_on state acknowledged_on days_to_acknowledge apology"
    " fault cause category diagnosed_on options chosen agreed resolved_on days_to_resolve lesson",
    integers="days_to_acknowledge agreed days_to_resolve",
)
LESSONS = _table(
    "lessons", "stream mistake", "handle category fault lesson recorded_on description",
    append_only=True,
)
TIMELINE = _table(
    "timeline", "stream version", "occurred_on recorded_at kind actor ref said",
    integers="version", append_only=True,
)

TABLES: dict[str, Table] = {t.name: t for t in (
    RELATIONSHIPS, CONTRACTS, TERMS, INSTALLMENTS, INVOICES, CHANGES, MISTAKES, LESSONS, TIMELINE,
)}

INDEXES: tuple[tuple[str, str, str, bool], ...] = (
    # (index name, table, columns, unique)
    ("relationships_by_handle", "relationships", "handle", True),
    ("invoices_open_by_due", "invoices", "open, due", False),
    ("installments_unbilled", "installments", "invoice, due", False),
    ("changes_by_state", "changes", "state", False),
    ("mistakes_by_state", "mistakes", "state", False),
    ("contracts_by_state", "contracts", "state", False),
)


def create_statements(qualify: str = "") -> list[str]:
    """CREATE statements, valid in SQLite and PostgreSQL (`qualify` is a schema prefix like '"s".')."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {qualify}read_model_meta (key TEXT PRIMARY KEY, value TEXT)"
    ]
    for table in TABLES.values():
        columns = ", ".join(
            f"{c} {'BIGINT' if c in table.integers else 'TEXT'}"
            + (" NOT NULL" if c in table.key else "")
            for c in table.columns
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {qualify}{table.name} ({columns},"
            f" PRIMARY KEY ({', '.join(table.key)}))"
        )
    for name, table_name, columns, unique in INDEXES:
        statements.append(
            f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name}"
            f" ON {qualify}{table_name} ({columns})"
        )
    return statements


def drop_statements(qualify: str = "") -> list[str]:
    return [f"DROP TABLE IF EXISTS {qualify}{name}" for name in (*TABLES, "read_model_meta")]
