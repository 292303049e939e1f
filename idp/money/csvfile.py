"""CSV as RFC 4180 writes it (CRLF between records, fields with a comma, a quote or a line break
in double quotes, quotes doubled), UTF-8, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Sequence

# A spreadsheet runs a cell that starts with one of these as a formula (or, for TAB and CR,
# drops them and then does): such a cell gets a single quote in front, which shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
