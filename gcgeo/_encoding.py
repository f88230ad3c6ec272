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
import unicodedata
from collections.abc import Iterable, Sequence

from ._errors import FileFormatError

log = logging.getLogger(__name__)

__all__ = ["CANDIDATES", "check_known", "choose_encoding", "decode_error", "label", "misread_error"]

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
    judged = {e: [_judge(raw, e) for _, raw in values] for e in others}
    fits = [e for e in others if not _misread(judged, e)]
    named = ", ".join(where for where, _ in values[:_MAX_NAMED])
    more = f" and {len(values) - _MAX_NAMED} more" if len(values) > _MAX_NAMED else ""
    hint = (f"; they read as {label(fits[0])}: give --encoding {fits[0]}" if fits
            else "; give the file's encoding with --encoding, e.g. GBK, GB18030 or cp1252")
    return FileFormatError(
        f"{source}: the text of {named}{more} is not {label(encoding or 'UTF-8')}, the encoding "
        f"the file (or its .cpg) names{hint}. Nothing was read."
    )


def _ascii_letter(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _odd_chinese(text: str) -> bool:
    """Whether GBK-decoded ``text`` holds what real Chinese text hardly does."""
    for i, c in enumerate(text):
        if c.isascii():
            continue
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            return True  # outside the 6,763 common characters (and symbols)
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if before.islower() and _ascii_letter(before) or after.islower() and _ascii_letter(after):
            return True
        if _ascii_letter(before) and _ascii_letter(after):
            return True
    return False


def _odd_latin(text: str) -> bool:
    """Whether Latin-1-decoded ``text`` holds what real Latin text hardly does."""
    run: list[str] = []
    for c in text + " ":
        if not c.isascii():
            if unicodedata.category(c) in ("Cc", "Co", "Cn"):
                return True
            run.append(c)
            continue
        if len(run) >= 3 or (len(run) == 2 and not all(r.isalpha() for r in run)):
            return True
        run = []
    return False


def _judge(raw: bytes, encoding: str) -> tuple[int, str]:
    """How ``raw`` reads in ``encoding``: fails, odd or clean; and the text."""
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return _FAILS, ""
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in text):
        return _ODD, text
    enc = encoding.upper()
    if enc in _CHINESE:
        return (_ODD if _odd_chinese(text) else _CLEAN), text
    if enc in _LATIN:
        return (_ODD if _odd_latin(text) else _CLEAN), text
    return _CLEAN, text  # UTF-8, and other scripts' code pages (Cyrillic, Japanese…) as named


def _misread(judged: dict[str, list[tuple[int, str]]], enc: str) -> list[int]:
    """Positions of the values ``enc`` fails on, or makes odd while another reads them cleanly."""
    others = [e for e in judged if e != enc]
    return [i for i, (verdict, _) in enumerate(judged[enc])
            if verdict == _FAILS
            or (verdict == _ODD and any(judged[o][i][0] == _CLEAN for o in others))]


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
    """
    found = [(where, raw) for where, raw in values if not raw.isascii()]
    if not found:
        return declared
    order = ([declared] if declared else []) + [c for c in CANDIDATES if c != declared]
    judged = {enc: [_judge(raw, enc) for _, raw in found] for enc in order}
    for enc in order:
        if not _misread(judged, enc):
            _say(enc, judged[enc], found, source=source, declared=declared,
                 declared_by=declared_by)
            return enc
    raise _mixed(found, judged, source=source, declared=declared, declared_by=declared_by)


def _example(found: Sequence[tuple[str, bytes]], texts: list[tuple[int, str]]) -> str:
    where, _ = found[0]
    return f"{where} reads '{texts[0][1][:40]}'"


def _say(enc: str, texts: list[tuple[int, str]], found: Sequence[tuple[str, bytes]], *,
         source: str, declared: str | None, declared_by: str) -> None:
    if enc == declared:
        log.info("%s: text read as %s, as %s says", source, label(enc), declared_by)
        return
    if declared:
        log.warning("%s: %s says %s, but its text reads as %s (%s); read so. If that is wrong, "
                    "give the file's encoding with --encoding.", source, declared_by,
                    label(declared), label(enc), _example(found, texts))
    elif enc == "UTF-8":  # other encodings' text is almost never valid UTF-8
        log.info("%s does not name its text encoding; its text is valid UTF-8", source)
    else:
        log.warning("%s does not name its text encoding; gcgeo guessed %s (%s). If that is "
                    "wrong, give the file's encoding with --encoding (e.g. --encoding GBK or "
                    "--encoding cp1252).", source, label(enc), _example(found, texts))


def _mixed(found: Sequence[tuple[str, bytes]], judged: dict[str, list[tuple[int, str]]], *,
           source: str, declared: str | None, declared_by: str) -> FileFormatError:
    """The error for text no single encoding reads: the rows at odds with the most common one."""
    main = min(judged, key=lambda e: len(_misread(judged, e)))
    bad = _misread(judged, main)
    shown = []
    for i in bad[:_MAX_NAMED]:
        where, _ = found[i]
        reads = [f"as {label(e)} '{judged[e][i][1][:30]}'" for e in judged
                 if judged[e][i][0] != _FAILS]
        shown.append(f"{where} ({', '.join(reads) or 'in none of them'})")
    more = f" and {len(bad) - _MAX_NAMED} more" if len(bad) > _MAX_NAMED else ""
    said = f" ({declared_by} says {label(declared)})" if declared else ""
    return FileFormatError(
        f"{source}: its text is not in one encoding{said}: most of it reads as {label(main)}, "
        f"but {len(bad)} value(s) do not: {'; '.join(shown)}{more}. Nothing was read. Re-type "
        "those values in one encoding in the program that made the file (e.g. QGIS or Excel), "
        f"or give --encoding to read all of it as one (e.g. --encoding {main})."
    )
