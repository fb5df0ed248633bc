"""Serve the web chat and the JSON API: ``python app.py``.

Environment: ``QA_HOST`` / ``QA_PORT`` (default 127.0.0.1:7860), ``QA_CONCURRENCY`` (answers
computed at once; default in ``qa.web.CONCURRENCY_LIMIT``), ``QA_INDEX_DIR``, ``QA_LOG_LEVEL``.
"""

from __future__ import annotations

import os
import sys

# Before anything imports gradio or the model code: no analytics, nothing fetched at run time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _int_env(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer setting from the environment; ValueError names the variable and the range."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return value


def main() -> int:
    """Check the settings, load the index once, then serve until interrupted."""
    host = os.environ.get("QA_HOST", "127.0.0.1")
    try:
        port = _int_env("QA_PORT", 7860, 1, 65535)
        concurrency = _int_env("QA_CONCURRENCY", None, 1, 64)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    assert port is not None
    if err := _port_problem(host, port):
        print(f"Cannot serve on {host}:{port} ({err}); set QA_HOST / QA_PORT to a free address.",
              file=sys.stderr)
        return 1

    import uvicorn

    from qa import QA, QAError
    from qa.web import CONCURRENCY_LIMIT, create_app

    try:
        qa = QA.load(build_if_missing=True)
    except QAError as exc:
        print(exc, file=sys.stderr)
        return 1
    app = create_app(qa, concurrency_limit=concurrency or CONCURRENCY_LIMIT)
    print(f"Serving the microneedling Q&A on http://{host}:{port}  (API docs: /docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=os.environ.get("QA_LOG_LEVEL", "warning"))
    return 0


def _port_problem(host: str, port: int) -> str | None:
    """Why binding host:port would fail (checked up front for a one-line message), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
