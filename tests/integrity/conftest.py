"""Prints the tamper matrix (cases detected / cases tried, per backend) at the end of the run."""

from __future__ import annotations

from support import MATRIX


def pytest_terminal_summary(terminalreporter, exitstatus: int, config) -> None:
    for backend, cases in sorted(MATRIX.items()):
        terminalreporter.write_line(f"tamper matrix {backend}: {sum(cases.values())}/{len(cases)} detected")
        for case, found in cases.items():
            terminalreporter.write_line(f"  {'detected' if found else 'MISSED  '}  {case}")
