"""The library's closed sets of choices, defined once: the analyses check against them, the CLI offers them.

Kept apart from the modules that use them (``trends``, ``topics``) because those
import numpy and scipy at the top, and the CLI declares its options when it is
imported: ``policylex --help`` must not pay for numpy.
"""

from __future__ import annotations

from enum import Enum

from policylex.errors import UsageError


class Interval(str, Enum):
    """How the interval around a rate is computed (:mod:`policylex.trends`).

    * ``poisson``: exact Poisson (Garwood) on the occurrences; assumes they are
      independent, which they are not when a few documents carry the count.
    * ``bootstrap``: documents resampled with replacement within each group,
      the percentile interval of the resampled rates.
    * ``quasipoisson``: the Poisson interval widened by the over-dispersion
      the documents show (Pearson χ² over the residual degrees of freedom).
    """

    poisson = "poisson"
    bootstrap = "bootstrap"
    quasipoisson = "quasipoisson"


class TopicMethod(str, Enum):
    """The topic model (:mod:`policylex.topics`): NMF on TF-IDF weights, or LDA on counts."""

    nmf = "nmf"
    lda = "lda"


class Nested(str, Enum):
    """How a formulation written inside a longer one counts (:mod:`policylex.slogans`).

    * ``key``: under both (quanteda's ``nested_scope = "key"``): 全面依法治国 counts once
      for 全面依法治国 and once for 依法治国 — how often each formulation is written.
    * ``dictionary``: only the longest match counts: 全面依法治国 is not 依法治国 —
      how often each is used as itself.
    """

    key = "key"
    dictionary = "dictionary"


class Per(str, Enum):
    """The denominator of a rate (:mod:`policylex.trends`): 10,000 tokens, 10,000 characters, or one document."""

    tokens = "tokens"
    chars = "chars"
    docs = "docs"


class Norm(str, Enum):
    """How TF-IDF scales each row (:func:`policylex.measures.tfidf`): to unit l2 or l1 length, or not."""

    l2 = "l2"
    l1 = "l1"
    none = "none"


class Correction(str, Enum):
    """Keyness's continuity correction (:func:`policylex.measures.keyness_statistics`): Yates where due, or none."""

    default = "default"
    none = "none"


class CollocationSort(str, Enum):
    """What collocations are sorted by (:func:`policylex.measures.collocations`)."""

    ll = "ll"
    pmi = "pmi"
    count = "count"


class Window(str, Enum):
    """The unit two formulations co-occur in (:func:`policylex.slogans.cooccurrence`)."""

    doc = "doc"
    paragraph = "paragraph"
    sentence = "sentence"


class AssociationSort(str, Enum):
    """What co-occurring pairs are sorted by (:func:`policylex.slogans.association`)."""

    ll = "ll"
    npmi = "npmi"
    pmi = "pmi"
    jaccard = "jaccard"
    joint = "joint"


class Pool(str, Enum):
    """Formulations pooled into their lexicon family or category (:func:`policylex.slogans.pooled`)."""

    family = "family"
    category = "category"


class ReuseField(str, Enum):
    """A field text reuse compares or groups documents by (:mod:`policylex.reuse`)."""

    province = "province"
    city = "city"
    source = "source"


def choose(enum: type[Enum], value, what: str):
    """``value`` as a member of ``enum``; a value not in it is a :class:`UsageError` naming the choices."""
    try:
        return enum(value.value if isinstance(value, Enum) else value)
    except ValueError:
        raise UsageError(f"{what} {value!r}: choose from {', '.join(m.value for m in enum)}", option=what) from None


class Variant(str, Enum):
    """OpenCC's conversion of the texts to one script (:mod:`policylex.normalise`); ``none`` keeps each text's."""

    t2s = "t2s"
    tw2s = "tw2s"
    hk2s = "hk2s"
    none = "none"


class Engine(str, Enum):
    """The segmenter (:mod:`policylex.segment`); ``auto`` takes rjieba unless a dictionary needs jieba."""

    auto = "auto"
    jieba = "jieba"
    rjieba = "rjieba"
