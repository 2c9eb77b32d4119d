"""policylex: a corpus toolkit for policy-discourse analysis of Chinese official texts.

The library is the product; the ``policylex`` command is a thin layer over it.
A chain of typed objects, as in quanteda: corpus → document-feature matrix →
a measure's :class:`Table`::

    import policylex as plx
    corpus = plx.open("policylex.db")
    m = corpus.dfm()                                  # FeatureMatrix of terms
    plx.frequency(m.select(where=["year>=2020"]), by="province", top=5).to_pandas()

See docs/python-api.md for every call.  The measures are imported when first
used, so that ``import policylex`` (and ``policylex --help``) does not pay for numpy.
"""

from policylex.errors import CorpusError, PolicylexError, UsageError
from policylex.store import Corpus

__version__ = "0.1.0"
# name → the module that defines it, imported on first use (PEP 562)
_LAZY = {
    "FeatureMatrix": "matrix", "Table": "output", "frequency": "measures", "tfidf": "measures",
    "keyness": "measures", "keyness_by_group": "measures", "kwic": "measures", "collocations": "measures",
    "cooccurrence": "slogans", "count_slogans": "slogans", "timeline": "slogans", "trends": "trends",
    "topic_model": "topics",
}
__all__ = ["open", "Corpus", *_LAZY, "PolicylexError", "UsageError", "CorpusError", "__version__"]


def open(path="policylex.db", *, create: bool = False, readonly: bool = False) -> Corpus:  # noqa: A001 - plx.open
    """The corpus at ``path`` (``policylex.db`` by default): ``plx.open("policylex.db").dfm()``."""
    return Corpus.open(path, create=create, readonly=readonly)


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"policylex.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'policylex' has no attribute {name!r}")
