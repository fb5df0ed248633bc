"""User-facing errors: one sentence that names the fix, and an exit code."""

from __future__ import annotations


class QAError(Exception):
    """An error a user can hit. ``str(err)`` is a single sentence naming the fix."""

    exit_code = 1


class UsageError(QAError):
    """Bad command-line usage or an unreadable input line."""

    exit_code = 2


class CorpusError(QAError):
    """The corpus folder or its metadata is missing, unreadable or inconsistent."""


class IndexMissingError(QAError):
    """No built index where one was expected."""


class IndexStaleError(QAError):
    """The index was built from another corpus, model, chunker or format version."""


class IndexCorruptError(QAError):
    """An index file is missing, truncated or damaged."""


class IndexBusyError(QAError):
    """Another build holds the index lock."""
