"""After the load: every jurisdiction's case numbers for every year run 1…last with no gap and
no repeat (``CaseNumberSequence.last`` against the cases that carry the numbers). Run in a child
process under the production settings; prints JSON and exits 1 on a gap."""

from __future__ import annotations

import json
import sys


def main() -> int:
    import django

    django.setup()
    from django.db.models import Count, Max, Min

    from xinfang.cases.models import Case, CaseNumberSequence

    problems, checked, cases = [], 0, 0
    for s in CaseNumberSequence.objects.all():
        agg = Case.objects.filter(jurisdiction_id=s.jurisdiction_id, year=s.year).aggregate(
            n=Count("pk"), distinct=Count("seq", distinct=True), lo=Min("seq"), hi=Max("seq")
        )
        checked += 1
        cases += agg["n"]
        if not (agg["n"] == agg["distinct"] == s.last and agg["lo"] == 1 and agg["hi"] == s.last):
            problems.append({"jurisdiction": s.jurisdiction_id, "year": s.year, "last": s.last,
                             **agg})
    json.dump({"sequences": checked, "cases": cases, "gaps": problems}, sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
