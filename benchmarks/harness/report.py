"""Turn worker results into Markdown tables and rewrite the README's results section."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cases import CASES
from harness.targets import BARE, OAKLING, TARGETS, Interface

if TYPE_CHECKING:
    from harness.startup import StartupResult

START = "<!-- results:start -->"
END = "<!-- results:end -->"
REPRODUCE = (
    "bash benchmarks/setup.sh && benchmarks/.venv/bin/python benchmarks/inprocess.py --write"
)

Results = dict[str, dict[str, Any]]
NA = "\u2013"  # en dash: not run / not applicable
TIMES = "\u00d7"


def _cell(case: dict[str, Any] | None) -> str:
    if case is None:
        return NA
    if case.get("error"):
        return "FAIL"
    return f"{_value(case):.1f}" + ("" if case.get("confirmed", True) else "*")


def _value(case: dict[str, Any]) -> float:
    """µs/request for timings, thousands of instructions/request for instruction counts."""
    return float(case["min_us"] if "min_us" in case else case["kinstr"])


def _case_map(report: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if report is None or report.get("error"):
        return {}
    return {case["case"]: case for case in report["cases"]}


def _us(cases: dict[str, dict[str, Any]], name: str) -> float | None:
    case = cases.get(name)
    if case is None or case.get("error"):
        return None
    return _value(case)


def _ratios(name: str, columns: dict[str, dict[str, dict[str, Any]]]) -> tuple[str, str]:
    oak = _us(columns.get(OAKLING, {}), name)
    bare = _us(columns.get(BARE, {}), name)
    peers = {
        fw: us
        for fw, cases in columns.items()
        if fw not in (BARE, OAKLING) and (us := _us(cases, name)) is not None
    }
    if oak is None:
        return NA, NA
    vs_bare = f"{oak / bare:.2f}{TIMES}" if bare else NA
    if not peers:
        return vs_bare, NA
    best = min(peers, key=peers.__getitem__)
    return vs_bare, f"{oak / peers[best]:.2f}{TIMES} ({best})"


def table(interface: Interface, results: Results) -> str:
    """Rows are cases, columns are frameworks (µs or k instructions per request), then ratios."""
    targets = [t for t in TARGETS if t.interface == interface]
    columns = {t.name: _case_map(results.get(t.key)) for t in targets}
    header = ["case", *(t.name for t in targets), "oakling ÷ bare", "oakling ÷ best peer"]
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for case in CASES:
        cells = [_column_cell(results, t.key, columns[t.name], case.name) for t in targets]
        lines.append(_row([case.name, *cells, *_ratios(case.name, columns)]))
    return "\n".join(lines)


def _column_cell(results: Results, key: str, cases: dict[str, dict[str, Any]], name: str) -> str:
    if key not in results:
        return NA
    return _cell(cases.get(name)) if cases else "ERR"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def failures(results: Results) -> list[str]:
    """One line per app that did not start and per case that failed its check."""
    lines = []
    for key, report in results.items():
        if report.get("error"):
            lines.append(f"- **{key}** did not run: `{_one_line(report['error'])}`")
            continue
        for case in report["cases"]:
            if case.get("error"):
                lines.append(f"- **{key}** / {case['case']}: `{_one_line(case['error'])}`")
    return lines


def _one_line(text: str, limit: int = 600) -> str:
    """The first line only (the traceback that follows is kept in the --json output)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.replace("`", "'")[:limit]


def startup_table(rows: list[StartupResult]) -> str:
    """Start-up wall times and peak RSS, one row per framework."""
    lines = [
        _row(
            [
                "process",
                "`import` wall (min, ms)",
                "hello-world wall (min, ms)",
                "hello-world peak RSS (median, MiB)",
            ]
        ),
        _row(["---", "---:", "---:", "---:"]),
    ]
    for row in rows:
        if row.error:
            lines.append(_row([row.name, "FAIL", "FAIL", "FAIL"]))
        else:
            lines.append(
                _row(
                    [
                        row.name,
                        f"{row.import_ms:.0f}",
                        f"{row.hello_ms:.0f}",
                        f"{row.hello_rss_mib:.1f}",
                    ]
                )
            )
    return "\n".join(lines)


def environment(revision: str) -> list[str]:
    """Date, machine, Python and framework versions."""
    versions = ", ".join(f"{dist} {_version(dist)}" for dist in _dists())
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} CPUs (nproc), Linux {platform.release()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Versions: {versions}",
        f"- oakling source: `{revision}` (working tree, copied at the start of the run)",
    ]


def git_revision() -> str:
    """``git describe --always --dirty`` of this repository."""
    try:
        proc = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return proc.stdout.strip()


def _dists() -> list[str]:
    seen = dict.fromkeys(t.dist for t in TARGETS if t.dist)
    return [d for d in [*seen, "msgspec", "pydantic"] if d is not None]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown CPU"


def write_readme(readme: Path, section: str) -> None:
    """Replace the text between the results markers (or append the section)."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    block = f"{START}\n{section.strip()}\n{END}"
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)


def noise_lines(results: Results) -> list[str]:
    """Which minima were not confirmed, and which apps started on a busy machine."""
    cells = [
        case
        for rep in results.values()
        if not rep.get("error")
        for case in rep["cases"]
        if not case.get("error")
    ]
    shaky = sum(not case.get("confirmed", True) for case in cells)
    busy = [
        key
        for key, rep in results.items()
        if rep.get("started_quiet", rep.get("rounds", 1)) < rep.get("rounds", 1)
    ]
    lines = [
        f"- `*`: the best two repeats differ by more than 3% ({shaky} of {len(cells)} cells), "
        "so that minimum may still carry noise."
    ]
    if busy:
        lines.append(
            "- Some rounds started while other processes kept the machine busy (the wait for an "
            f"idle machine ran out): {', '.join(busy)}"
        )
    return lines
