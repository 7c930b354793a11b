"""The error every package raises for bad input, so the CLI and API can report it cleanly."""

from __future__ import annotations


class ChurnInputError(ValueError):
    """Input the service cannot use; the message names the table or field, the column and the problem."""

    def __init__(self, problem: str, *, table: str | None = None, column: str | None = None):
        self.table, self.column, self.problem = table, column, problem
        where = ".".join(part for part in (table, column) if part)
        super().__init__(f"{where}: {problem}" if where else problem)
