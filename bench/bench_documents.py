"""Benchmark: documents (issue 10) — DOCX generation per instrument, PDF conversion per document
through LibreOffice, and a 20-document case file (一案一档).

Run from the repository root (SQLite by default; PostgreSQL with DATABASE_URL)::

    .venv/bin/python bench/bench_documents.py [--repeat 5] [--pdf 3]

It builds a throwaway test database, walks one jianan case to archive (tests/documents/cases.py),
then measures, as medians:

- ``render``: one docxtpl fill of each template (one audience), and ``document_issue`` (the three
  audiences rendered and stored, the case row locked, the audit entry);
- ``docx_to_pdf``: one LibreOffice conversion in a fresh profile (the cost a background worker
  pays per document; a page never waits for it) — skipped where LibreOffice is absent;
- ``archive_build`` over a case holding 20 issued documents (versions of its instruments), and
  ``archive_verify`` of the ZIP it makes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.documents.cases import MAIN, SECRET, walk  # noqa: E402
from xinfang.demo.org import build_jurisdiction  # noqa: E402
from xinfang.documents import pdf  # noqa: E402
from xinfang.documents.archive import archive_build, archive_verify  # noqa: E402
from xinfang.documents.instruments import INSTRUMENTS  # noqa: E402
from xinfang.documents.models import Audience, Format, IssuedDocument  # noqa: E402
from xinfang.documents.rendering import render  # noqa: E402
from xinfang.documents.services import document_correct, document_issue, template_in_force  # noqa: E402


def ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pdf", type=int, default=3, help="PDF conversions to time (0: none)")
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.repeat, args.pdf)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(repeat: int, pdf_count: int) -> None:
    j = build_jurisdiction()
    case = walk(j, petitioners=[MAIN, SECRET])
    clerk, approver = j.member("clerk"), j.member("approver")
    print(
        f"# {timezone.now():%Y-%m-%d} · {connection.vendor} · {platform.python_version()} · "
        f"{os.cpu_count()} cores · {platform.machine()}"
    )
    print(f"{'operation':<34}{'median ms':>10}{'DOCX bytes':>12}")
    codes = [c for c in INSTRUMENTS if c != "D6"]  # no warning notice on this case
    params = {"required_action": "三日内报送", "due_date": "2026年10月9日"}
    for code in codes:
        spec = INSTRUMENTS[code]
        _, template = template_in_force(spec.template)
        source = spec.ready(case)
        ctx = spec.fill(case, Audience.FULL, source, dict(params, _at_dt=timezone.now()))
        data = render(template, ctx)
        print(
            f"{'render ' + code:<34}"
            f"{ms(lambda t=template, c=ctx: render(t, c), repeat):>10.1f}"
            f"{len(data):>12}"
        )
    for code in ("D1", "D2", "D9-closing"):

        def issue(code=code):
            if IssuedDocument.objects.filter(case=case, code=code).exists():
                document_correct(case=case, code=code, by=clerk, reason="基准测试")
            else:
                document_issue(case=case, code=code, by=clerk)

        print(f"{'document_issue ' + code + ' (3 copies)':<34}{ms(issue, repeat):>10.1f}")
    if pdf_count and pdf.soffice():
        doc = IssuedDocument.objects.filter(case=case, code="D2").first()
        docx = bytes(doc.renditions.get(audience=Audience.FULL, format=Format.DOCX).content)
        print(
            f"{'docx_to_pdf D2 (LibreOffice)':<34}"
            f"{ms(lambda: pdf.docx_to_pdf(docx), pdf_count):>10.1f}"
        )
    elif pdf_count:
        print("docx_to_pdf: LibreOffice not installed, skipped")
    # a case file of 20 issued documents
    while IssuedDocument.objects.filter(case=case).count() < 20:
        n = IssuedDocument.objects.filter(case=case).count()
        code = codes[n % len(codes)]
        if code == "D8":
            document_issue(case=case, code="D8", by=approver, params=params)
        elif IssuedDocument.objects.filter(case=case, code=code).exists():
            document_correct(case=case, code=code, by=clerk, reason="基准测试")
        else:
            document_issue(case=case, code=code, by=clerk)
    total = IssuedDocument.objects.filter(case=case).count()
    zipped = archive_build(case=case, by=clerk)
    print(
        f"{f'archive_build ({total} documents)':<34}"
        f"{ms(lambda: archive_build(case=case, by=clerk), repeat):>10.1f}{len(zipped):>12}"
    )
    print(f"{'archive_verify':<34}{ms(lambda: archive_verify(zipped), repeat):>10.1f}")


if __name__ == "__main__":
    main()
