"""How numbers and quantities are written for a reader, in every edition.

One place decides how a number reaches the prose and the tables:

* :func:`number`, :func:`percent`, :func:`nok`: thousands separators, a true minus sign (U+2212), no more
  digits than asked for, and the marker of a value that is missing ("n/a") or protected ("<5", "–")
  passed through as it is;
* :func:`p_value`: three decimals, or "< 0.001";
* :func:`share_words`, :func:`majority_words`: the words that state a share ("nearly half", "about one in
  three", "most"), chosen from the value by a fixed rule, so that a sentence never says more than its number;
* :func:`styled`: how a computed table is shown.
"""

from __future__ import annotations

import math
from fractions import Fraction

from pandas import NA as _NA

MINUS = "\u2212"
#: Shown where a value cannot be computed on the data.
NOT_AVAILABLE = "n/a"


def _missing(value) -> bool:
    if value is None or value is _NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def number(value, decimals: int = 0, *, sign: bool = False) -> str:
    """``value`` with ``decimals`` decimals, thousands separators and a true minus sign.

    A string (a disclosure marker such as "<5" or "–") is returned as it is; None, NaN and NA give "n/a".
    ``sign=True`` writes a plus sign before a positive value (for differences)."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return NOT_AVAILABLE
    value = float(value)
    text = f"{abs(value):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:  # no "−0.0"
        return text
    if value < 0:
        return MINUS + text
    return ("+" + text) if sign else text


def percent(value, decimals: int = 0, *, sign: bool = False) -> str:
    """A percentage (``value`` already in percent) followed by "%"; markers and "n/a" as they are."""
    text = number(value, decimals, sign=sign)
    return text if isinstance(value, str) or text == NOT_AVAILABLE else text + "%"


def nok(value, *, sign: bool = False) -> str:
    """An amount in whole Norwegian kroner (no unit), as :func:`number` writes it."""
    return number(value, 0, sign=sign)


def p_value(p) -> str:
    """A p-value as a reader expects it: "< 0.001", or three decimals ("0.042")."""
    if isinstance(p, str):
        return p
    if _missing(p):
        return NOT_AVAILABLE
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    return f"{min(p, 1.0):.3f}"


def formatter(decimals: int = 0, *, unit: str = ""):
    """A table formatter (for ``Styler.format``) that writes numbers with :func:`number` and ``unit``."""

    def write(value):
        text = number(value, decimals)
        return text if isinstance(value, str) or text == NOT_AVAILABLE else text + unit

    return write


# --- words that state a quantity ----------------------------------------------------------------------

#: The fractions a share is put in words with, and how each is written.
_FRACTIONS = (
    (Fraction(1, 10), "one in ten"),
    (Fraction(1, 5), "one in five"),
    (Fraction(1, 4), "a quarter"),
    (Fraction(1, 3), "one in three"),
    (Fraction(2, 5), "two in five"),
    (Fraction(1, 2), "half"),
    (Fraction(3, 5), "three in five"),
    (Fraction(2, 3), "two in three"),
    (Fraction(3, 4), "three quarters"),
    (Fraction(4, 5), "four in five"),
    (Fraction(9, 10), "nine in ten"),
)
#: A share this close to a fraction is "about" it.
ABOUT = 0.02


def share_words(share) -> str:
    """The share ``share`` (0 to 1) in words, from the nearest of a fixed set of fractions.

    Rule: 0 is "none" and 1 is "all"; below 5% "very few" and above 95% "almost all"; otherwise the
    nearest fraction of :data:`_FRACTIONS`, "about" it when within two percentage points, "nearly" it
    when below, "just over" it when above. So 0.46 is "nearly half", 0.50 "about half", 0.35 "about one in
    three" and 0.31 "nearly one in three". Missing gives "n/a"."""
    if isinstance(share, str):
        return share
    if _missing(share):
        return NOT_AVAILABLE
    share = float(share)
    if not 0 <= share <= 1:
        raise ValueError(f"a share lies between 0 and 1 (got {share})")
    if share == 0:
        return "none"
    if share == 1:
        return "all"
    if share < 0.05:
        return "very few"
    if share > 0.95:
        return "almost all"
    fraction, words = min(_FRACTIONS, key=lambda item: abs(share - float(item[0])))
    gap = share - float(fraction)
    if abs(gap) <= ABOUT:
        return f"about {words}"
    return f"nearly {words}" if gap < 0 else f"just over {words}"


def majority_words(share) -> str:
    """How much of a group ``share`` is, in the words of a sentence such as "most patients ...".

    Rule: 0 "none", 1 "all", above 0.95 "almost all", above 0.55 "most", from 0.45 to 0.55 "about
    half", from 0.05 to 0.45 "a minority", above 0 "very few". Missing gives "n/a"."""
    if isinstance(share, str):
        return share
    if _missing(share):
        return NOT_AVAILABLE
    share = float(share)
    if share == 0:
        return "none"
    if share == 1:
        return "all"
    if share > 0.95:
        return "almost all"
    if share > 0.55:
        return "most"
    if share >= 0.45:
        return "about half"
    if share >= 0.05:
        return "a minority"
    return "very few"


def count_words(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 patient", "2 patients", "1,203 patients": a count with its noun in the right number."""
    if isinstance(n, str):
        return f"{n} {plural or singular + 's'}"
    return f"{number(n)} {singular if int(n) == 1 else (plural or singular + 's')}"


def styled(frame, caption: str | None = None, *, precision: int | None = None, columns: dict | None = None):
    """A table as the book shows it: no index, the book's table class (``hatbook-table``), a caption unless the
    page gives the table one of its own (a glued table under a ``{glue:figure}``), numbers with ``precision``
    decimals, and ``columns`` (name -> format or function, e.g. :func:`formatter`) for the columns written
    otherwise. The one styler of every computed table."""
    style = frame.style.hide(axis="index")
    if precision is not None:
        style = style.format(precision=precision)
    if columns:
        style = style.format({name: how for name, how in columns.items() if name in frame.columns})
    if caption is not None:
        style = style.set_caption(caption)
    return style.set_table_attributes('class="hatbook-table"')
