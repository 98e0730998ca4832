"""Reading and writing client CSV files with the stdlib ``csv`` module.

Reading: the bytes are decoded by ``core.exchange.text.decode``; the delimiter is the one of
``;``, ``,`` and tab that splits the header line into the most columns (Excel in a Russian
locale writes ``;``, everything else ``,``), which is steadier on short files than
``csv.Sniffer``. Each data row keeps its line number in the file (the header is line 1), so a
report says "line 7" just as a spreadsheet does, even when a quoted cell spans lines.

Writing: UTF-8 with a BOM (so Excel opens Cyrillic correctly), comma-separated, every cell
guarded against formula injection (``columns.escape_cell``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.exchange.text import decode

DELIMITERS = (";", ",", "\t")


@dataclass
class CsvTable:
    """A decoded CSV file: its header, its rows with line numbers, and how it was read."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    broken: list[tuple[int, str]]
    """Lines the csv module could not split, with its reason."""
    encoding: str
    delimiter: str


def sniff_delimiter(first_line: str) -> str:
    """The delimiter that splits the header line into the most cells (``,`` on a tie)."""
    best, best_count = ",", 1
    for delimiter in DELIMITERS:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        if len(cells) > best_count:
            best, best_count = delimiter, len(cells)
    return best


def read_csv(data: bytes) -> CsvTable:
    """Decode and split a CSV file; blank rows are skipped, short rows padded."""
    text, encoding = decode(data)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    broken: list[tuple[int, str]] = []
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            broken.append((start, f"cannot be read as CSV: {exc}"))
            continue
        line = reader.line_num
        if not header:
            if any(c.strip() for c in cells):
                header = [c.strip() for c in cells]
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        rows.append((start, cells))
    return CsvTable(header=header, rows=rows, broken=broken, encoding=encoding, delimiter=delimiter)


def iter_csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text of a table, a line at a time (the first one starts with a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()
