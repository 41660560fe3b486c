"""The after-action report as files people look at: PNG plots (matplotlib, headless) and one
self-contained HTML page (plots inlined), beside the JSON."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulations.report import COMPONENTS, summary_lines

NAMES = {"first_dispatch": "report → first dispatch", "first_arrival": "report → first arrival",
         "full_response": "report → full response"}


def plots(report: Mapping[str, Any]) -> dict[str, bytes]:
    """{file name: PNG bytes}: response-time distributions against their targets, and
    utilisation by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, c in zip(axes, COMPONENTS, strict=True):
        vals = sorted(t[f"{c}_s"] / 60 for t in report["timeline"] if t[f"{c}_s"] is not None)
        total = max(report["incidents"], 1)
        if vals:
            ax.step(vals, [(i + 1) / total for i in range(len(vals))], where="post",
                    color="#1f5fa8")
        target = report["response"][c]
        ax.axvline(target["target_s"] / 60, color="#c0392b", linestyle="--", linewidth=1)
        ax.axhline(target["target_fraction"], color="#c0392b", linestyle=":", linewidth=1)
        ax.set_title(NAMES[c], fontsize=10)
        ax.set_xlabel("minutes")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of incidents")
    fig.tight_layout()
    out["response_times.png"] = _png(fig, plt)
    util = report["utilisation"]["by_kind"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    kinds = list(util)
    ax.barh(kinds, [util[k]["mean"] * 100 for k in kinds], color="#4a8f5c")
    ax.set_xlabel("mean utilisation, % of the window")
    ax.set_xlim(0, 100)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out["utilisation.png"] = _png(fig, plt)
    return out


def _png(fig: Any, plt: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def page(report: Mapping[str, Any], images: Mapping[str, bytes]) -> str:
    e = html.escape
    ex = report.get("exercise") or {}
    rows = []
    for group, title in (("by_level", "lead level"), ("by_category", "category"),
                         ("by_mode", "mode of the first unit")):
        for name, g in report[group].items():
            cells = "".join(
                f"<td>{_m(g[c]['median_s'])}</td><td>{_m(g[c]['p90_s'])}</td>"
                f"<td class='{'ok' if g[c]['met'] else 'bad'}'>"
                f"{_pct(g[c]['within_target'])}</td>" for c in COMPONENTS)
            rows.append(f"<tr><td>{e(title)}</td><td>{e(name)}</td><td>{g['incidents']}</td>"
                        f"{cells}</tr>")
    heads = "".join(f"<th colspan=3>{e(NAMES[c])}</th>" for c in COMPONENTS)
    sub = "<th>median</th><th>p90</th><th>in target</th>" * len(COMPONENTS)
    timeline = "".join(
        f"<tr><td>{e(t['id'])}</td><td>{e(t['title'])}</td><td>{e(t['category'])}</td>"
        f"<td>{e(t['severity'])}</td><td>{e(t['level'])}</td>"
        + "".join(f"<td>{_m(t[f'{c}_s'])}</td>" for c in COMPONENTS) + "</tr>"
        for t in report["timeline"])
    imgs = "".join(f"<img alt='{e(n)}' src='data:image/png;base64,"
                   f"{base64.b64encode(b).decode()}'>" for n, b in images.items())
    summary = "<br>".join(e(line) for line in summary_lines(report))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>After-action report: {e(str(ex.get('title') or 'history'))}</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222}}
table{{border-collapse:collapse;margin:12px 0}}td,th{{border:1px solid #ccc;padding:3px 6px}}
.ok{{background:#e3f4e6}}.bad{{background:#fbe3e1}}img{{max-width:100%;display:block}}
pre{{background:#f5f5f5;padding:8px}}</style></head><body>
<h1>After-action report</h1><p>{summary}</p>
<p>Window {e(str(report['window']['from']))} to {e(str(report['window']['to']))}.</p>
{imgs}
<h2>By group</h2><table><tr><th>group</th><th></th><th>incidents</th>{heads}</tr>
<tr><th></th><th></th><th></th>{sub}</tr>{''.join(rows)}</table>
<h2>Shortfalls</h2><pre>{e(json.dumps(report['shortfalls'], indent=1))}</pre>
<h2>Incidents</h2><table><tr><th>id</th><th>title</th><th>category</th><th>severity</th>
<th>level</th>{''.join(f'<th>{e(NAMES[c])}</th>' for c in COMPONENTS)}</tr>{timeline}</table>
</body></html>"""


def _m(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f} min"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def write(report: Mapping[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    images = plots(report)
    paths = [folder / "report.json"]
    paths[0].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, data in images.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    (folder / "report.html").write_text(page(report, images), encoding="utf-8")
    paths.append(folder / "report.html")
    return paths
