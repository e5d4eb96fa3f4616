"""The Word tables of the reports and the ranking bulletin: written as one parsed fragment, they
hold what python-docx's own ``add_row`` and ``_Cell.text`` would write, cell for cell, and read
back the same."""

import io

import pytest
from docx import Document
from lxml import etree

from xinfang.documents.wordxml import add_table

HEADER = ["序号", "反映问题", "备注"]
ROWS = [
    [1, "要求落实危房改造补助", None],
    [2, "第一行\n第二行\t（附件）", ""],
    [3, " 前后有空格 ", "A&B <c> \"d\""],
    [4, "回车\r\n换行\r只回车", 0],
]


def _slow(doc, header, rows):
    """The rows as the reports wrote them before: python-docx's API, row by row (the header is
    ``add_table``'s own either way)."""
    table = add_table(doc, header, [])
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = "" if value is None else str(value).replace("\r\n", "\n")
    return table


def _xml(table) -> list[bytes]:
    return [etree.tostring(tr, method="c14n") for tr in table._tbl.tr_lst]


def test_the_rows_are_the_elements_python_docx_writes():
    fast, slow = add_table(Document(), HEADER, ROWS), _slow(Document(), HEADER, ROWS)
    assert _xml(fast) == _xml(slow)


def test_a_saved_table_reads_back_cell_for_cell():
    doc = Document()
    add_table(doc, HEADER, ROWS)
    out = io.BytesIO()
    doc.save(out)
    table = Document(io.BytesIO(out.getvalue())).tables[0]
    assert [c.text for c in table.rows[0].cells] == HEADER
    assert all(r.bold for r in table.rows[0].cells[0].paragraphs[0].runs)
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == [
        ["1", "要求落实危房改造补助", ""],
        ["2", "第一行\n第二行\t（附件）", ""],
        ["3", " 前后有空格 ", "A&B <c> \"d\""],
        ["4", "回车\n换行\n只回车", "0"],
    ]


def test_a_control_character_is_left_out_and_a_short_row_refused():
    doc = Document()
    table = add_table(doc, ["a", "b"], [["粘贴\x0b的文字", "\x00"]])
    assert [c.text for c in table.rows[1].cells] == ["粘贴的文字", ""]
    with pytest.raises(ValueError, match="row 2 has 1 cells"):
        add_table(doc, ["a", "b"], [["x", "y"], ["z"]])


def _slow_document(title, lines) -> bytes:
    doc = Document()
    doc.add_heading(title, level=1)
    for line in lines:
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


LINES = ["信访件编号：XF-2026-0001", "", "信访事项：第一行\n第二行", "  01  附件：照片.jpg",
         "A&B <c>"]


def test_a_heading_and_lines_document_is_what_python_docx_writes():
    import zipfile

    from xinfang.documents.wordxml import heading_and_lines

    fast, slow = heading_and_lines("信访事项案卷", LINES), _slow_document("信访事项案卷", LINES)
    with zipfile.ZipFile(io.BytesIO(fast)) as f, zipfile.ZipFile(io.BytesIO(slow)) as s:
        # the same parts; the body part is written last (the rest is compressed once), the
        # content types stay first, where readers look for them
        assert sorted(f.namelist()) == sorted(s.namelist())
        assert f.namelist()[0] == s.namelist()[0] == "[Content_Types].xml"
        for name in f.namelist():
            if name != "word/document.xml":
                assert f.read(name) == s.read(name), name

        def body(z):
            tree = etree.fromstring(z.read("word/document.xml"))
            return [etree.tostring(e, method="c14n") for e in tree[0]]

        assert body(f) == body(s)
    read = Document(io.BytesIO(fast))
    assert [(p.style.name, p.text) for p in read.paragraphs] == [
        ("Heading 1", "信访事项案卷"), *[("Normal", line) for line in LINES]]


def test_documents_written_at_once_in_threads_are_each_whole():
    # the saved blank is shared by every request of a process: nothing of one document's writing
    # may land in another's (zipfile sets a part's offsets on the ZipInfo it is given)
    import zipfile
    from concurrent.futures import ThreadPoolExecutor

    from xinfang.documents.wordxml import heading_and_lines

    def make(i):
        return i, heading_and_lines(f"办理记录 {i}", [f"第{i}行"] * (i % 7 + 1))

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(make, range(160)))
    for i, data in made:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert z.testzip() is None
        read = Document(io.BytesIO(data))
        assert [p.text for p in read.paragraphs] == [f"办理记录 {i}"] + [f"第{i}行"] * (i % 7 + 1)
