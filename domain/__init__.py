"""The freelancer's business, as plain rules over an event stream (no I/O here)."""
