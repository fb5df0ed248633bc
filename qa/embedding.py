"""Sentence embeddings: sentence-transformers at build time, ONNX Runtime at query time.

The build embeds the corpus with sentence-transformers and exports the same
network (transformer + mean pooling + L2 normalisation) to ONNX inside the
index. Answering then needs only ``onnxruntime`` and ``tokenizers``: no torch,
which saves ~10 s of start-up and ~15 ms per query on two cores. A test checks
that both produce the same vectors (cosine ≥ 0.999).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .errors import QAError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MAX_SEQ_LENGTH = 256


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    dim: int

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        ...


def _offline_env() -> None:
    # Model hubs are unreachable for our users; fail fast instead of retrying.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class SentenceTransformerEncoder:
    """The reference encoder (imports torch; used by the build and by parity tests)."""

    def __init__(self, model: str):
        _offline_env()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise QAError(f"sentence-transformers is not installed ({exc}); run `make setup`.") from None
        try:
            self.model: SentenceTransformer = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise QAError(
                f"Could not load the embedding model {model!r} ({type(exc).__name__}); set QA_MODEL "
                "to a local sentence-transformers folder, or unset it to use the bundled MiniLM."
            ) from None
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension  # renamed in sentence-transformers 6
        dim = get_dim()
        if not dim:
            raise QAError(f"The model {model!r} does not report an embedding size; use another.")
        self.dim = int(dim)
        self.max_seq_length = int(self.model.max_seq_length or DEFAULT_MAX_SEQ_LENGTH)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        vecs = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True,
            show_progress_bar=progress, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def export_onnx(self, onnx_path: Path, tokenizer_path: Path) -> None:
        """Write the network with pooling and normalisation as one ONNX graph, plus its tokenizer."""
        import torch

        transformer = self.model[0].auto_model
        pooling_modes = getattr(self.model[1], "pooling_mode_mean_tokens", True) if len(self.model) > 1 \
            else True
        if not pooling_modes:
            raise QAError("Only mean-pooling models can be exported to the ONNX query path; "
                          "set QA_MODEL to a mean-pooling sentence-transformers model.")

        class Pooled(torch.nn.Module):
            def __init__(self, tr: torch.nn.Module):
                super().__init__()
                self.tr = tr

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                out = self.tr(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids)[0]
                mask = attention_mask.unsqueeze(-1).to(out.dtype)
                emb = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(emb, p=2, dim=1)

        sample = self.model.tokenizer(["a sample", "another sample text"], padding=True,
                                      return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        if "token_type_ids" not in sample:
            sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
        axes = {n: {0: "batch", 1: "seq"} for n in names} | {"embedding": {0: "batch"}}
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(transformer).eval(), tuple(sample[n] for n in names), str(onnx_path),
                input_names=names, output_names=["embedding"], dynamic_axes=axes,
                opset_version=17, dynamo=False,
            )
        tok = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if tok is None:
            raise QAError("The model has no fast tokenizer to export; use a model with tokenizer.json.")
        tok.save(str(tokenizer_path))


class OnnxEncoder:
    """Query-time encoder: ONNX Runtime + tokenizers, one intra-op thread per call.

    One thread per call and several concurrent callers gave the best throughput
    on two cores (see bench/). Repeated texts (example questions) hit a small cache.
    """

    def __init__(self, onnx_path: Path, tokenizer_path: Path, dim: int,
                 max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH, threads: int = 1,
                 cache_size: int = 512):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.dim = dim
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _run(self, texts: list[str]) -> np.ndarray:
        encs = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n] = e.ids
            mask[i, :n] = e.attention_mask
            types[i, :n] = e.type_ids
        out = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                      "token_type_ids": types})[0]
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._run(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(parts)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector, cached by text."""
        return self.encode_cached([text])[0]

    def encode_cached(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` through the query cache (least recently used goes first):
        hits are free, misses share one encoder pass."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for t in found:
                self._cache.move_to_end(t)
        misses = list(dict.fromkeys(t for t in texts if t not in found))
        if misses:
            vecs = self._run(misses)
            with self._lock:
                for t, v in zip(misses, vecs, strict=True):
                    self._cache[t] = found[t] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.vstack([found[t] for t in texts])


def read_max_seq_length(model: str) -> int:
    """The model folder's configured max sequence length, when it says."""
    cfg = Path(model) / "sentence_bert_config.json"
    try:
        return int(json.loads(cfg.read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_SEQ_LENGTH
