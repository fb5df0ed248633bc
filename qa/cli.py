"""The ``qa`` command: ``ask`` (readable, ``--json``, ``--jsonl``), ``build``, ``eval``.

Exit codes: 0 whenever an answer object was written (any status); 2 for bad
usage or an unreadable input line; 1 for an internal error (one line, no
traceback unless ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .errors import QAError, UsageError

if TYPE_CHECKING:
    from .schema import Answer
    from .service import QA

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `qa {self.prog.split()[-1]} --help`)."
                         if " " in self.prog else f"{message} (see `qa --help`).")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="qa", description="Cited answers from five articles on microneedling for "
                "acne scars.")
    p.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    p.add_argument("--index-dir", help="index folder (default: ./index or $QA_INDEX_DIR)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ask = sub.add_parser("ask", help="answer a question")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    fmt = ask.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--jsonl", action="store_true",
                     help='read {"question", "history"} JSON lines from stdin, write one object each')
    ask.add_argument("--history", help='earlier turns as JSON: [{"role": "user", "content": "..."}]')

    b = sub.add_parser("build", help="chunk, embed and index the corpus (skips if up to date)")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    b.add_argument("--quiet", action="store_true", help="no progress bars")

    ev = sub.add_parser("eval", help="evaluate on JSONL question sets (default: tests/data)")
    ev.add_argument("files", nargs="*", help="question files (default: dev and test splits)")
    ev.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    ev.add_argument("--no-baselines", action="store_true", help="skip the naive baselines")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qa`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = _parser().parse_args(argv)
        if args.index_dir:
            os.environ["QA_INDEX_DIR"] = args.index_dir
        if args.command == "ask":
            return _ask(args)
        if args.command == "build":
            return _build(args)
        if args.command == "eval":
            from .evaluate import run_cli

            return run_cli(args.files, json_out=args.json_out, baselines=not args.no_baselines)
        raise UsageError("Unknown command (see `qa --help`).")
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with --debug for "
              "details.", file=sys.stderr)
        return 1


def _build(args: argparse.Namespace) -> int:
    from .config import Settings
    from .index import build

    report = build(Settings(), force=args.force, progress=not args.quiet)
    if report["built"]:
        print(f"Built the index in {report['index_dir']}: {report['chunks']} passages, "
              f"{report['sentences']} sentences, {report['seconds']} s.")
    else:
        print(f"The index in {report['index_dir']} is up to date; nothing to do "
              "(use --force to rebuild).")
    return 0


def _load_qa() -> QA:
    from .service import QA

    return QA.load(build_if_missing=True)


def _ask(args: argparse.Namespace) -> int:
    if args.jsonl:
        if args.question is not None or args.history is not None:
            raise UsageError("--jsonl reads questions from stdin; give no question or --history.")
        return _ask_jsonl()
    if args.question is None:
        raise UsageError('Give a question, e.g. qa ask "How many sessions are needed?", or use '
                         "--jsonl.")
    history: Any = None
    if args.history is not None:
        try:
            history = json.loads(args.history)
        except ValueError:
            raise UsageError("--history must be a JSON list of {role, content} objects.") from None
        from .safety import parse_history

        if (err := parse_history(history)[1]) is not None:
            raise UsageError(f"--history: {err}")
    qa = _load_qa()
    answer = qa.ask(args.question, history)
    if args.json:
        _write_json(answer)
    else:
        print(render_text(answer))
    return 0


def _write_json(answer: Answer) -> None:
    sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _stdin_lines() -> Iterator[tuple[int, str]]:
    """Numbered stdin lines, each decoded as UTF-8 on its own.

    Reading bytes keeps the result independent of the locale: a text-mode stdin
    either fails on the whole read-ahead block (so earlier good lines go
    unanswered) or, under surrogateescape, silently drops the bad bytes.
    """
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream without bytes underneath (tests, embedding)
        yield from enumerate(sys.stdin, start=1)
        return
    for lineno, data in enumerate(raw, start=1):
        try:
            yield lineno, data.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"Input line {lineno} is not UTF-8 text; save the input as UTF-8.") from None


def _ask_jsonl() -> int:
    qa: QA | None = None
    for lineno, line in _stdin_lines():
        if not line.strip():
            continue  # blank lines are not questions
        try:
            obj = json.loads(line)
        except ValueError:
            raise UsageError(f"Input line {lineno} is not valid JSON.") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise UsageError(f'Input line {lineno} needs an object with a "question" string.')
        from .safety import parse_history

        if (err := parse_history(obj.get("history"))[1]) is not None:
            raise UsageError(f"Input line {lineno}: {err}")
        qa = qa or _load_qa()
        _write_json(qa.ask(obj["question"], obj.get("history")))
    return 0


def render_text(answer: Answer) -> str:
    """The readable form of an answer for the terminal."""
    out = [f"[{answer.status}]", answer.answer, ""]
    if answer.citations:
        out.append("Sources:")
        for c in answer.citations:
            quote = textwrap.fill(" ".join(c.text.split()), width=96, initial_indent="    ",
                                  subsequent_indent="    ")
            out.append(f"  [{c.n}] {c.title} (characters {c.start}–{c.end})")
            out.append(quote)
        out.append("")
    out.append(textwrap.fill(f"Disclaimer: {answer.disclaimer}", width=100))
    return "\n".join(out)
