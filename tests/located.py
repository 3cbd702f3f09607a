"""Checking that an error message locates the offending code: the file, the
line (marked in the test file with a trailing ``# <- marker`` comment), the
line itself and a caret under the offending code."""

from __future__ import annotations

import os


class Source:
    """A test file whose lines carry ``# <- marker`` comments."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        with open(self.path) as handle:
            self.lines = handle.read().splitlines()

    def line_of(self, marker: str) -> int:
        """The number of the only line ending with ``# <- marker``."""
        found = [i + 1 for i, text in enumerate(self.lines)
                 if text.rstrip().endswith(f"# <- {marker}")]
        assert len(found) == 1, (marker, found)
        return found[0]

    def assert_located(self, error: Exception, marker: str, snippet: str,
                       function: str = "") -> str:
        """``error``'s message starts with this file, the marker's line and
        (if given) ``function``, shows that line, and puts a caret under
        ``snippet``.  Returns the message."""
        message = str(error)
        lineno = self.line_of(marker)
        head = f"{self.path}, line {lineno}, in {function}"
        assert message.startswith(head + (": " if function else "")), message
        text = self.lines[lineno - 1].strip()
        lines = message.splitlines()
        shown = [i for i, line in enumerate(lines) if line.strip() == text]
        assert shown, f"the source line {text!r} is not in:\n{message}"
        source, caret = lines[shown[0]], lines[shown[0] + 1]
        assert caret.strip() and set(caret.strip()) == {"^"}, message
        assert snippet in source, (snippet, source)
        start = caret.index("^")
        assert source[start:].startswith(snippet), f"the caret is not under {snippet!r}:\n{message}"
        return message
