"""Errors raised by sourcegrad.

Every error that concerns the user's code names the file, the line and the
offending code, with a caret under it::

    examples/model.py, line 12, in loss: 'for' loops are not supported yet
        for i in range(n):
        ^^^^^^^^^^^^^^^^^^
"""

from __future__ import annotations

import linecache


class SourceGradError(Exception):
    """Base class of every error sourcegrad raises."""


class UnsupportedSyntaxError(SourceGradError):
    """A construct of the language that sourcegrad cannot differentiate."""


class NoRuleError(SourceGradError):
    """A call to a function that has no derivative rule."""


class NonScalarOutputError(SourceGradError):
    """``grad`` of a function whose output is not a scalar."""


class SourceNotFoundError(SourceGradError):
    """The source of a function cannot be read."""


class WrtError(SourceGradError, ValueError):
    """A ``wrt`` that names no parameter of the function."""


class Where:
    """A place in the user's source: file, first line, and a column shift.

    ``col_shift`` is the indentation removed before parsing, so that carets
    land under the right character of the file's own line.
    """

    def __init__(self, filename: str, function: str, col_shift: int = 0, lines=None):
        self.filename = filename
        self.function = function
        self.col_shift = col_shift
        self._lines = lines

    def line_text(self, lineno: int) -> str:
        if self._lines is not None and 0 < lineno <= len(self._lines):
            return self._lines[lineno - 1].rstrip("\n")
        return linecache.getline(self.filename, lineno).rstrip("\n")

    def segment(self, node) -> str:
        """The source text of ``node`` on one line (continuation lines joined by
        a space); the whole line if the node's columns are unknown."""
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if first is None:
            return ""
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if last is None or start is None or end is None:
            return self.line_text(first).strip()
        lines = [self.line_text(n) for n in range(first, last + 1)]
        lines[-1] = lines[-1][: end + self.col_shift]
        lines[0] = lines[0][start + self.col_shift:]
        return " ".join(line.strip() for line in lines if line.strip())

    def format(self, node, message: str, hint: str = "") -> str:
        """``message`` located at ``node``, with the source line and a caret,
        then ``hint`` (how to fix it) on the lines after."""
        lineno = getattr(node, "lineno", None)
        tail = f"\n{hint}" if hint else ""
        if lineno is None:
            return f"{self.filename}, in {self.function}: {message}{tail}"
        head = f"{self.filename}, line {lineno}, in {self.function}: {message}"
        text = self.line_text(lineno)
        if not text:
            return head + tail
        start = getattr(node, "col_offset", 0) + self.col_shift
        end_line = getattr(node, "end_lineno", lineno)
        end = getattr(node, "end_col_offset", None)
        if end is None or end_line != lineno:
            end = len(text)
        else:
            end += self.col_shift
        width = max(1, end - start)
        shown = text.lstrip()
        start -= len(text) - len(shown)
        return f"{head}\n    {shown}\n    {' ' * max(0, start)}{'^' * width}{tail}"

    def error(self, cls, node, message: str, hint: str = "") -> SourceGradError:
        return cls(self.format(node, message, hint))
