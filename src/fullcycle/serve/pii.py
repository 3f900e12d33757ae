"""`mask_pii(text)`: personal data replaced by placeholders before a text is stored anywhere.

One standalone function, so that whatever captures served texts (today fullcycle.serve.capture,
through BentoML's monitoring API) can use it. The text is NFKC-normalised first (as the monitor normalises it),
so a fullwidth `＠` or fullwidth digits cannot slip past and turn into a real address later.
Then, in this order (each step sees the placeholders of the steps before it):

| placeholder | what | how it is recognised |
|---|---|---|
| <EMAIL> | e-mail addresses, internationalised ones too | pattern (Unicode letters) |
| <IBAN> | bank accounts, compact or in groups of 4 | python-stdnum `iban` (country format + mod 97) |
| <ID> | national IDs with letters: ES DNI/NIE, IT codice fiscale, IN PAN, CN RIC | python-stdnum |
| <IP> | IPv4 and IPv6 addresses | the standard library's `ipaddress` |
| <CARD> | card numbers: 13-19 digits, grouped by spaces, dots or dashes, or glued to words | python-stdnum `luhn` |
| <ID> | numeric national IDs written in their usual groups: US SSN, CA SIN, NL BSN, IN Aadhaar, BR CPF, DE IdNr, PL PESEL, FR NIR, CH AHV, SE personnummer | python-stdnum |
| <PHONE> | phone numbers: international (+CC / 00CC) from anywhere, national formats of PHONE_REGIONS, and US local 555-0147 | `phonenumbers.PhoneNumberMatcher`, leniency VALID |
| <NUMBER> | any other run of 13+ digits (account numbers, invalid cards), ISBNs excepted | pattern, `isbn` |

Why VALID leniency: POSSIBLE (length only) masks years, scores, page ranges and dates ("2004-2005",
"21-14", "15.03.2024"); VALID checks each region's numbering plan and leaves them alone. Masking
errs towards masking: a 9-11 digit number that happens to pass an ID checksum is masked too.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

import phonenumbers
from stdnum import iban, isbn, luhn
from stdnum.br import cpf
from stdnum.ch import ssn as ch_ssn
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn

# National phone formats are read as these regions' (international ones from any region). Each
# region adds a pass per candidate: name the regions your users write from.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU")
MAX_PHONE_CANDIDATES = 50  # per text; beyond that, every 7+ digit candidate is masked unchecked

EMAIL = re.compile(r"[\w.!#$%&*+=?^~-]+@(?:[\w-]+\.)+[\w-]{2,}")
IBAN = re.compile(r"(?<![^\W_])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,32}(?![^\W_])")
LETTER_IDS: list[tuple[re.Pattern[str], Callable[[str], bool]]] = [
    (re.compile(r"(?<![^\W_])\d{8}-?[A-Za-z](?![^\W_])"), dni.is_valid),
    (re.compile(r"(?<![^\W_])[XYZxyz]-?\d{7}-?[A-Za-z](?![^\W_])"), nie.is_valid),
    (re.compile(r"(?<![^\W_])[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z](?![^\W_])"),
     codicefiscale.is_valid),
    (re.compile(r"(?<![^\W_])[A-Za-z]{5}\d{4}[A-Za-z](?![^\W_])"), pan.is_valid),
    (re.compile(r"(?<![^\W_])\d{17}[\dXx](?![^\W_])"), ric.is_valid),
]  # fmt: skip
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%\w+)?")
# digit groups joined by single spaces, dots or dashes; letters around them are allowed (glued)
DIGIT_RUN = re.compile(r"(?<!\d)\d+(?:[ .-]\d+)*(?!\d)")
# Numeric IDs: the digit-group shapes they are written in (a bare run or the usual grouping).
NUMERIC_IDS: list[tuple[set[tuple[int, ...]], Callable[[str], bool]]] = [
    ({(9,), (3, 2, 4)}, ssn.is_valid),
    ({(9,), (3, 3, 3)}, lambda n: luhn.is_valid(n) and n[0] not in "08"),  # CA SIN
    ({(9,), (4, 2, 3)}, bsn.is_valid),
    ({(12,), (4, 4, 4)}, aadhaar.is_valid),
    ({(11,), (3, 3, 3, 2)}, cpf.is_valid),
    ({(11,), (2, 3, 3, 3)}, idnr.is_valid),
    ({(11,)}, pesel.is_valid),
    ({(15,), (1, 2, 2, 2, 3, 3, 2)}, nir.is_valid),
    ({(13,), (3, 4, 4, 2)}, ch_ssn.is_valid),
    ({(6, 4), (8, 4)}, personnummer.is_valid),
]
MAX_GROUPS = 8  # the longest grouping looked at inside a run of digit groups
PHONE_CANDIDATE = re.compile(r"(?:\+|(?<!\d)00)?\(?\d[\d ()./-]{5,22}\d")
US_LOCAL = re.compile(r"(?<![\w.-])\d{3}-\d{4}(?![\w-])")
LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[ .-]?\d){12,}(?!\d)")


def mask_pii(text: str, regions: Sequence[str] = PHONE_REGIONS) -> str:
    """`text`, NFKC-normalised, with personal data replaced by placeholders (see the module doc)."""
    text = unicodedata.normalize("NFKC", text)
    text = EMAIL.sub("<EMAIL>", text)
    text = IBAN.sub(_iban, text)
    for pattern, is_valid in LETTER_IDS:
        text = _sub_valid(pattern, text, "<ID>", is_valid)
    text = IPV6.sub(_ipv6, text)
    text = _sub_valid(IPV4, text, "<IP>", _ipv4)
    text = _replace(text, _digit_ids(text))
    text = _replace(text, ((a, b, "<PHONE>") for a, b in _phones(text, regions)))
    text = US_LOCAL.sub("<PHONE>", text)
    return LONG_NUMBER.sub(lambda m: m.group() if isbn.is_valid(m.group()) else "<NUMBER>", text)


def _sub_valid(pattern: re.Pattern[str], text: str, mask: str, ok: Callable[[str], bool]) -> str:
    return pattern.sub(lambda m: mask if ok(m.group(0)) else m.group(0), text)


def _replace(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """Replace (start, end, mask) spans; overlapping spans merge into one mask."""
    merged: list[list] = []
    for start, end, mask in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, mask])
    out, last = [], 0
    for start, end, mask in merged:
        out += [text[last:start], mask]
        last = end
    return "".join(out) + text[last:]


def _iban(match: re.Match[str]) -> str:
    """An IBAN, possibly followed by words the pattern swallowed: drop trailing groups until it
    validates (an IBAN has at least 15 characters)."""
    parts = match.group().split(" ")
    for keep in range(len(parts), 0, -1):
        if len("".join(parts[:keep])) >= 15 and iban.is_valid("".join(parts[:keep])):
            return " ".join(["<IBAN>", *parts[keep:]])
    return match.group()


def _ipv4(candidate: str) -> bool:
    try:
        ipaddress.IPv4Address(candidate)
    except ValueError:
        return False
    return True


def _ipv6(match: re.Match[str]) -> str:
    candidate = match.group()
    address = candidate.rstrip(".")  # the end of a sentence
    try:
        ipaddress.IPv6Address(address.split("%")[0])
    except ValueError:
        return candidate
    return "<IP>" + candidate[len(address) :]


def _digit_ids(text: str) -> list[tuple[int, int, str]]:
    """Cards (Luhn, 13-19 digits, any grouping) and numeric national IDs (their usual groupings)
    inside each run of digit groups; the longest match wins."""
    spans: list[tuple[int, int, str]] = []
    for run in DIGIT_RUN.finditer(text):
        groups = [
            (m.start() + run.start(), m.end() + run.start())
            for m in re.finditer(r"\d+", run.group())
        ]
        found: list[tuple[int, int, str]] = []
        for i in range(len(groups)):
            for j in range(i, min(i + MAX_GROUPS, len(groups))):
                window = groups[i : j + 1]
                digits = "".join(text[a:b] for a, b in window)
                if len(digits) > 19:
                    break
                mask = _numeric_kind(digits, tuple(b - a for a, b in window))
                if mask:
                    found.append((window[0][0], window[-1][1], mask))
        taken: list[tuple[int, int, str]] = []
        for span in sorted(found, key=lambda s: (s[0] - s[1], s[0])):  # longest first
            if all(span[1] <= a or span[0] >= b for a, b, _ in taken):
                taken.append(span)
        spans += taken
    return spans


def _numeric_kind(digits: str, shape: tuple[int, ...]) -> str | None:
    if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
        return "<CARD>"
    for shapes, is_valid in NUMERIC_IDS:
        # personnummer needs its dash (YYMMDD-NNNN); the others take the bare digits
        number = f"{digits[:-4]}-{digits[-4:]}" if is_valid is personnummer.is_valid else digits
        if shape in shapes and is_valid(number):
            return "<ID>"
    return None


def _phones(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of phone numbers: phonenumbers' matcher run on each candidate (a stretch of digits
    and separators with 7+ digits), for each region; too many candidates are masked unchecked."""
    candidates = [
        m for m in PHONE_CANDIDATE.finditer(text) if sum(c.isdigit() for c in m.group()) >= 7
    ]
    if len(candidates) > MAX_PHONE_CANDIDATES:
        return [m.span() for m in candidates]
    spans = set()
    for candidate in candidates:
        start = candidate.start()
        for region in regions:
            for match in phonenumbers.PhoneNumberMatcher(
                candidate.group(), region, leniency=phonenumbers.Leniency.VALID
            ):
                spans.add((start + match.start, start + match.end))
    return sorted(spans)
