"""Shared fixtures: the real model and a real index, built once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa import QA
from qa.config import ROOT, Settings
from qa.corpus import Corpus, load_corpus
from qa.index import build

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a fresh index folder under the session's temp dir."""
    return replace(Settings(), corpus_dir=ROOT / "corpus",
                   index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def built_index(settings: Settings) -> Path:
    """A real index (sentence-transformers + FAISS + BM25 + ONNX), built once."""
    build(settings, progress=False)
    return settings.index_dir


@pytest.fixture(scope="session")
def qa(built_index: Path, settings: Settings) -> QA:
    """The one QA object every test shares, as the CLI and the app do."""
    return QA.load(settings=settings)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(ROOT / "corpus")


@pytest.fixture()
def cli_env(built_index: Path) -> dict[str, str]:
    """Environment for running the `qa` command against the session's index."""
    return {**os.environ, "QA_INDEX_DIR": str(built_index)}


@pytest.fixture()
def run_eval(tmp_path: Path, cli_env: dict[str, str]) -> Callable[[str, list[dict]], tuple[str, dict]]:
    """Run `qa eval` on a question file made of ``lines``: (stdout, that file's JSON report)."""
    def run(name: str, lines: list[dict]) -> tuple[str, dict]:
        f = tmp_path / f"{name}.jsonl"
        f.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
        out = tmp_path / "eval.json"
        r = subprocess.run([sys.executable, "-m", "qa", "eval", str(f), "--json", str(out)],
                           capture_output=True, text=True, env=cli_env, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout, json.loads(out.read_text())[name]
    return run


# --- the web app and the real browser (tests/test_api.py, tests/test_browser.py) -----------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def app_server(built_index: Path):
    """``python app.py`` on a free port against the session's index, started once."""
    from _app_server import start_app

    server = start_app(built_index)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium (never a downloaded browser build), with quiet, offline-safe flags."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir(pytestconfig: pytest.Config) -> None:
    """Replaces pytest-playwright's fixture of the same name, which empties ``--output``
    (test-results/) at the start of every pytest run: keep the browser tests' screenshots so
    an unrelated run does not wipe them; anything else there is still removed."""
    import shutil

    out = Path(pytestconfig.getoption("--output", "test-results"))
    if not out.is_dir():
        return
    for entry in out.iterdir():
        if entry.name == "screenshots":
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
