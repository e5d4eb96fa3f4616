"""Word content written as python-docx writes it, without its element API where that is slow
(docs/PERFORMANCE.md lead27, 1M cases):

- ``add_table``: python-docx adds a row by building each cell through its element API and finds
  the row's cells by walking the table's grid: the monthly bulletin's 500 petitions (4,000 cells)
  took 2.6 s of a province's 3.1 s report. The rows are written as one XML fragment, parsed once
  and appended: the same elements python-docx's ``add_row`` and ``_Cell.text`` make (a width per
  cell, one paragraph with one run, a tab as ``<w:tab/>`` and a line break as ``<w:br/>``).
- ``heading_and_lines``: a document of a heading and plain paragraphs (an archive's cover and
  timeline). python-docx opened its default template, parsed every part and wrote them back for
  each: 20 ms a document, 140 of them in a province's weekly batch. The default document is saved
  and compressed once; each document is those bytes with its body part added.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

from docx import Document as new_document
from docx.document import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.table import Table

# Characters XML 1.0 cannot hold (a control character pasted into a petition's text): python-docx
# refuses them with an error, which would fail the whole report; they are left out.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def run_xml(text: str) -> str:
    """One run of ``text``, its tabs and line breaks as Word's own elements."""
    parts = []
    lines = NOT_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if i:
            parts.append("<w:br/>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                parts.append("<w:tab/>")
            if piece:  # python-docx keeps the spaces at either end the same way
                keep = ' xml:space="preserve"' if piece != piece.strip() else ""
                parts.append(f"<w:t{keep}>{escape(piece)}</w:t>")
    return f"<w:r>{''.join(parts)}</w:r>" if parts else "<w:r/>"


def add_table(doc: Document, header: Sequence, rows: Sequence[Sequence]) -> Table:
    """A grid-lined table: ``header`` in bold, then ``rows`` (``None`` an empty cell, anything
    else as its ``str``). Every row must have the header's length."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    tbl = table._tbl
    props = [f'<w:tcPr><w:tcW w:type="dxa" w:w="{g.get(qn("w:w"))}"/></w:tcPr>'
             if g.get(qn("w:w")) else "" for g in tbl.tblGrid.gridCol_lst]
    out = []
    for n, row in enumerate(rows, start=1):
        if len(row) != len(props):
            raise ValueError(f"row {n} has {len(row)} cells, the header {len(props)}")
        out.append("<w:tr>")
        for prop, value in zip(props, row, strict=True):
            text = "" if value is None else str(value)
            out.append(f"<w:tc>{prop}<w:p>{run_xml(text)}</w:p></w:tc>")
        out.append("</w:tr>")
    if out:
        for tr in list(parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(out)}</w:tbl>")):
            tbl.append(tr)
    return table


BODY = "word/document.xml"


@functools.cache
def _blank() -> tuple[bytes, tuple, bytes, bytes]:
    """python-docx's default document, saved and compressed once without its body part: the
    ZIP's bytes, the body part's time, and the body part cut where the content goes (before
    the section properties, the body's last child). Each document is a copy of those bytes with
    its body part added: the styles (790 KB of the default's 830) are not compressed again for
    every one. Plain values, not a ``ZipInfo`` to write: writing a part sets its offsets on the
    object, which two documents written at once would share."""
    saved = io.BytesIO()
    new_document().save(saved)
    frame = io.BytesIO()
    with zipfile.ZipFile(saved) as z, zipfile.ZipFile(frame, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            if info.filename == BODY:
                when, body = info.date_time, z.read(info)
            else:
                out.writestr(zipfile.ZipInfo(info.filename, info.date_time), z.read(info),
                             zipfile.ZIP_DEFLATED)
    at = body.index(b"<w:sectPr")
    return frame.getvalue(), when, body[:at], body[at:]


def _paragraph(text: str, style: str = "") -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{props}{run_xml(text)}</w:p>" if text else f"<w:p>{props}</w:p>"


def heading_and_lines(title: str, lines: Sequence[str]) -> bytes:
    """A DOCX of ``title`` as a level-1 heading and each of ``lines`` a paragraph (an empty line
    an empty paragraph): what ``add_heading(title, 1)`` and ``add_paragraph(line)`` make."""
    frame, when, head, tail = _blank()
    content = _paragraph(title, "Heading1") + "".join(_paragraph(line) for line in lines)
    out = io.BytesIO(frame)
    with zipfile.ZipFile(out, "a") as z:
        z.writestr(zipfile.ZipInfo(BODY, when), head + content.encode() + tail,
                   zipfile.ZIP_DEFLATED)
    return out.getvalue()
