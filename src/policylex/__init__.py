"""policylex: a corpus toolkit for policy-discourse analysis of Chinese official texts.

The library is the product; the ``policylex`` command is a thin layer over it::

    from policylex import Corpus
    corpus = Corpus.open("policylex.db")
    corpus.ingest(["seeds/"])
    corpus.tokenise()
"""

from policylex.errors import PolicylexError, UsageError, CorpusError
from policylex.store import Corpus

__version__ = "0.1.0"
__all__ = ["Corpus", "PolicylexError", "UsageError", "CorpusError", "__version__"]
