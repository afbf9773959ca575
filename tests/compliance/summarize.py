"""Summarize an Autobahn|Testsuite report: counts of each verdict, and every case not OK.

Run it on the ``index.json`` that ``wstest`` wrote (a tool, not a test)::

    python tests/compliance/summarize.py reports/servers/index.json
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def _case_key(case: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case.split("."))


def summarize(index: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    """Lines of text: for each agent, its verdicts counted, then the cases that are not OK."""
    lines = []
    for agent, cases in sorted(index.items()):
        verdicts: Counter[str] = Counter()
        closes: Counter[str] = Counter()
        odd = []
        for case in sorted(cases, key=_case_key):
            result = cases[case]
            behavior, close = str(result["behavior"]), str(result["behaviorClose"])
            verdicts[behavior] += 1
            closes[close] += 1
            if behavior != "OK" or close != "OK":
                odd.append(f"    {case:<10} {behavior:<14} close {close}")
        lines.append(f"{agent}: {len(cases)} cases")
        lines.append("  behavior: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
        lines.append("  close:    " + ", ".join(f"{k} {v}" for k, v in sorted(closes.items())))
        lines.extend(odd)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("index", type=Path, help="the report's index.json")
    args = parser.parse_args(argv)
    print("\n".join(summarize(json.loads(args.index.read_text()))))


if __name__ == "__main__":
    main()
