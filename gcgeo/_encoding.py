"""Which text encoding a file's bytes are in, when the file does not say.

A planner's Shapefile without a ``.cpg`` or a CSV saved by Excel may hold
UTF-8, GBK (GB18030) or Windows-1252 (Latin-1) text.  Decoding with the
wrong one gives mojibake without an error ("Jardim Atlântico" read as GBK
has a rare Chinese character in place of "ân"), so each candidate is tried
on every non-ASCII value and judged by what real text looks like in it:

* UTF-8 must decode strictly (other encodings' text almost never does);
* GBK text is made of the common characters of GB 2312, not standing
  between lower-case Latin letters (Latin-1 "Atlântico" read as GBK gives
  a rare character glued to "n");
* Latin-1 text has accented letters alone or in pairs, never runs of
  three or more (GBK "鱼邱湖" read as Latin-1 is "ÓãÇñºþ").

A candidate is taken when every value decodes in it and no value it makes
odd reads cleanly in another.  When none fits, the file mixes encodings:
:func:`choose_encoding` refuses it, naming the rows and how they read.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterable, Sequence

from ._errors import FileFormatError

log = logging.getLogger(__name__)

__all__ = ["CANDIDATES", "check_known", "choose_encoding", "decode_error", "label", "misread_error",
           "without_cut_character"]

#: The encodings tried, in order of preference, when a file does not name one.
CANDIDATES: tuple[str, ...] = ("UTF-8", "GB18030", "CP1252")

_LABELS = {"UTF-8": "UTF-8", "GB18030": "GBK (GB18030)", "CP1252": "Windows-1252 (Latin-1)",
           "ISO-8859-1": "ISO-8859-1 (Latin-1)", "CP936": "GBK (CP936)"}
_CHINESE = ("GB18030", "GBK", "CP936", "GB2312")
#: Code pages of Latin letters, judged by the runs of accented letters they make
_LATIN = ("CP1252", "ISO-8859-1", "LATIN-1", "LATIN1", "CP437", "CP850", "CP852", "CP857", "CP860",
          "CP861", "CP863", "CP865", "CP1250", "CP1254", "CP1257", "MAC_ROMAN", "MAC_LATIN2")

#: How a value reads in an encoding
_FAILS, _ODD, _CLEAN = 0, 1, 2
_MAX_NAMED = 8


def label(encoding: str) -> str:
    """A reader's name of ``encoding`` ("GBK (GB18030)" for GB18030)."""
    return _LABELS.get(encoding.upper(), encoding)


def check_known(encoding: str, *, source: str, named_by: str) -> None:
    """Refuse an encoding Python does not know, naming where it came from
    (``named_by``: "given as --encoding", "named by x.cpg")."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise FileFormatError(
            f"{source}: unknown text encoding '{encoding}' ({named_by}); give the file's "
            "encoding with --encoding, e.g. UTF-8, GBK or GB18030."
        ) from None


def without_cut_character(raw: bytes, encoding: str) -> bytes | None:
    """``raw`` without the bytes at its end that begin a character of ``encoding`` (a
    character cut in two: a file cut short, a name cut at a byte limit), when all
    before them reads in ``encoding``; None when ``raw`` reads whole, or fails elsewhere.

    >>> without_cut_character("金城".encode()[:-1], "UTF-8").decode()
    '金'
    >>> without_cut_character("金城".encode(), "UTF-8") is None
    True
    """
    try:
        raw.decode(encoding)
        return None
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(raw, final=False)
    except UnicodeDecodeError:
        return None
    pending = decoder.getstate()[0]
    return raw[: len(raw) - len(pending)] if pending else None


def decode_error(source: str, exc: BaseException, encoding: str | None) -> FileFormatError:
    """The error for text that did not decode in ``encoding``: give --encoding."""
    read_as = f" as {label(encoding)}" if encoding else ""
    why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return FileFormatError(
        f"{source}: its text could not be decoded{read_as} ({why}); give the file's encoding "
        "with --encoding, e.g. UTF-8, GBK or GB18030."
    )


def misread_error(source: str, values: Sequence[tuple[str, bytes]], encoding: str | None
                  ) -> FileFormatError:
    """The error for ``values`` ((where, raw bytes)) that are not text in ``encoding``,
    with the encoding they do read in, when one does."""
    others = [e for e in CANDIDATES if e.upper() != (encoding or "UTF-8").upper()]
    judged = _Judged([raw for _, raw in values], others)
    fits = [e for e in others if not judged.misread(e)]
    named = ", ".join(where for where, _ in values[:_MAX_NAMED])
    more = f" and {len(values) - _MAX_NAMED} more" if len(values) > _MAX_NAMED else ""
    hint = (f"; they read as {label(fits[0])}: give --encoding {fits[0]}" if fits
            else "; give the file's encoding with --encoding, e.g. GBK, GB18030 or cp1252")
    return FileFormatError(
        f"{source}: the text of {named}{more} is not {label(encoding or 'UTF-8')}, the encoding "
        f"the file (or its .cpg) names{hint}. Nothing was read."
    )


_NON_ASCII = r"[^\x00-\x7f]"
#: C0 controls but tab, line feed and carriage return; C1 controls
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: a Chinese character beside a lower-case Latin letter, or between two Latin letters
_BESIDE_LATIN = re.compile(rf"[a-z]{_NON_ASCII}|{_NON_ASCII}[a-z]|[A-Za-z]{_NON_ASCII}[A-Za-z]")
#: runs of accented letters: three or more, or a pair (checked for letters)
_RUN3 = re.compile(rf"{_NON_ASCII}{{3,}}")
_PAIR = re.compile(rf"(?<!{_NON_ASCII}){_NON_ASCII}{{2}}(?!{_NON_ASCII})")


def _odd_chinese(text: str) -> bool:
    """Whether GBK-decoded ``text`` holds what real Chinese text hardly does: a character
    outside GB 2312's 6,763 common ones, or one glued to Latin letters."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return _BESIDE_LATIN.search(text) is not None


def _odd_latin(text: str) -> bool:
    """Whether Latin-1-decoded ``text`` holds what real Latin text hardly does."""
    if _RUN3.search(text):
        return True
    return any(not pair.group().isalpha() for pair in _PAIR.finditer(text))


def _judge(raw: bytes, encoding: str) -> tuple[int, str]:
    """How ``raw`` reads in ``encoding``: fails, odd or clean; and the text."""
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return _FAILS, ""
    if _CONTROL.search(text):
        return _ODD, text
    enc = encoding.upper()
    if enc in _CHINESE:
        return (_ODD if _odd_chinese(text) else _CLEAN), text
    if enc in _LATIN:
        return (_ODD if _odd_latin(text) else _CLEAN), text
    return _CLEAN, text  # UTF-8, and other scripts' code pages (Cyrillic, Japanese…) as named


class _Judged:
    """How each of ``raws`` reads in each of ``encodings``, judged when first asked."""

    def __init__(self, raws: Sequence[bytes], encodings: Sequence[str]) -> None:
        self.raws, self.encodings = raws, list(encodings)
        self._seen: dict[tuple[str, int], tuple[int, str]] = {}

    def __call__(self, enc: str, i: int) -> tuple[int, str]:
        key = (enc, i)
        if key not in self._seen:
            self._seen[key] = _judge(self.raws[i], enc)
        return self._seen[key]

    def misreads(self, enc: str, i: int) -> bool:
        """Whether ``enc`` fails on value ``i``, or makes it odd while another reads it cleanly."""
        verdict = self(enc, i)[0]
        return verdict == _FAILS or (verdict == _ODD and any(
            self(o, i)[0] == _CLEAN for o in self.encodings if o != enc))

    def misread(self, enc: str) -> list[int]:
        return [i for i in range(len(self.raws)) if self.misreads(enc, i)]

    def fits(self, enc: str) -> bool:
        return self._all_clean(enc) or not any(self.misreads(enc, i) for i in range(len(self.raws)))

    def _all_clean(self, enc: str) -> bool:
        """Whether every value reads cleanly in ``enc``, judged at once: the values
        joined by line feeds, which no encoding here lets a character run across."""
        return _judge(b"\n".join(self.raws), enc)[0] == _CLEAN


def choose_encoding(
    values: Iterable[tuple[str, bytes]],
    *,
    source: str,
    declared: str | None = None,
    declared_by: str = "",
) -> str | None:
    """The encoding of ``values`` ((where, raw bytes) pairs, e.g. ("row 3, NAME", b"…")).

    ``declared`` is what the file says weakly (a .dbf's code-page byte),
    tried first; ``declared_by`` says where it comes from, for messages.
    Returns the encoding, or ``declared`` (None if not given) when every
    value is ASCII and any encoding reads it.  An encoding other than the
    declared one, or a guess other than UTF-8, is said as a warning naming
    ``source`` and ``--encoding``; a file that no single encoding reads
    raises :class:`~gcgeo.FileFormatError` naming its rows.

    >>> choose_encoding([("row 1, name", "鱼邱湖".encode("gbk"))], source="a.csv")
    'GB18030'
    """
    rows: dict[bytes, list[str]] = {}  # each distinct value once, with every row holding it
    for where, raw in values:
        if not raw.isascii():
            rows.setdefault(raw, []).append(where)
    if not rows:
        return declared
    order = ([declared] if declared else []) + [c for c in CANDIDATES if c != declared]
    judged = _Judged(list(rows), order)
    for enc in order:
        if judged.fits(enc):
            first = judged.raws[0]
            _say(enc, f"{rows[first][0]} reads '{judged(enc, 0)[1][:40]}'", source=source,
                 declared=declared, declared_by=declared_by)
            return enc
    raise _mixed(rows, judged, source=source, declared=declared, declared_by=declared_by)


def _say(enc: str, example: str, *, source: str, declared: str | None, declared_by: str) -> None:
    if enc == declared:
        log.info("%s: text read as %s, as %s says", source, label(enc), declared_by)
        return
    if declared:
        log.warning("%s: %s says %s, but its text reads as %s (%s); read so. If that is wrong, "
                    "give the file's encoding with --encoding.", source, declared_by,
                    label(declared), label(enc), example)
    elif enc == "UTF-8":  # other encodings' text is almost never valid UTF-8
        log.info("%s does not name its text encoding; its text is valid UTF-8", source)
    else:
        log.warning("%s does not name its text encoding; gcgeo guessed %s (%s). If that is "
                    "wrong, give the file's encoding with --encoding (e.g. --encoding GBK or "
                    "--encoding cp1252).", source, label(enc), example)


def _mixed(rows: dict[bytes, list[str]], judged: _Judged, *, source: str, declared: str | None,
           declared_by: str) -> FileFormatError:
    """The error for text no single encoding reads: the rows at odds with the most common one."""
    misread = {e: judged.misread(e) for e in judged.encodings}
    main = min(misread, key=lambda e: sum(len(rows[judged.raws[i]]) for i in misread[e]))
    bad = [(where, i) for i in misread[main] for where in rows[judged.raws[i]]]
    shown = []
    for where, i in bad[:_MAX_NAMED]:
        reads = [f"as {label(e)} '{judged(e, i)[1][:30]}'" for e in judged.encodings
                 if judged(e, i)[0] != _FAILS]
        shown.append(f"{where} ({', '.join(reads) or 'in none of them'})")
    more = f" and {len(bad) - _MAX_NAMED} more" if len(bad) > _MAX_NAMED else ""
    said = f" ({declared_by} says {label(declared)})" if declared else ""
    return FileFormatError(
        f"{source}: its text is not in one encoding{said}: most of it reads as {label(main)}, "
        f"but {len(bad)} value(s) do not: {'; '.join(shown)}{more}. Nothing was read. Re-type "
        "those values in one encoding in the program that made the file (e.g. QGIS or Excel), "
        f"or give --encoding to read all of it as one (e.g. --encoding {main})."
    )
