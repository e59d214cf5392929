"""Errors raised at opslib's public edge."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Bad input data, refused at the public edge.

    The message names the table, the column, the rule, up to five offending
    rows and how to fix it. It is a ``ValueError`` so that generic callers can
    catch it as one.

    Parameters
    ----------
    message : str
        The full, human-readable message.
    findings : list, optional
        The :class:`opslib.data.Finding` objects behind the message, for callers
        that want to act on them programmatically.
    """

    def __init__(self, message: str, findings: list | None = None):
        super().__init__(message)
        self.findings = list(findings or [])
