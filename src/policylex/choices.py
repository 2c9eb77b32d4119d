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


def choose(enum: type[Enum], value, what: str):
    """``value`` as a member of ``enum``; a value not in it is a :class:`UsageError` naming the choices."""
    try:
        return enum(value.value if isinstance(value, Enum) else value)
    except ValueError:
        raise UsageError(f"{what} {value!r}: choose from {', '.join(m.value for m in enum)}") from None
