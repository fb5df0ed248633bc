"""Cited question answering over five articles on microneedling for acne scars.

Public API::

    from qa import QA
    qa = QA.load()
    answer = qa.ask("How many sessions are usually needed?")
"""

from .errors import QAError
from .schema import Answer, ArticleView, Citation, Passage, Turn
from .service import QA

__all__ = ["QA", "Answer", "ArticleView", "Citation", "Passage", "QAError", "Turn"]
__version__ = "0.1.0"
