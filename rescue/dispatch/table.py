"""A fixed-width text rendering of a suggestion, for the CLI (`rescue suggest`)."""

from __future__ import annotations

from typing import Any


def _eta(s: int | None) -> str:
    if s is None:
        return "-"
    h, rem = divmod(int(s), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_table(suggestion: Any) -> str:
    """Requirements with their ranked candidates, shortfalls, then the recommended plan."""
    d = suggestion.to_dict() if hasattr(suggestion, "to_dict") else suggestion
    areas = " > ".join(a["name"] for a in d.get("areas") or [])
    lines = [f"{d.get('category')} severity {d.get('severity')} at "
             f"{d.get('lat'):.5f}, {d.get('lon'):.5f} ({d.get('surface') or '?'}; {areas or '-'})"]
    head = f"  {'#':>2}  {'resource':<24} {'kind':<16} {'mode':<4} {'eta':>8} {'km':>8}  {'relation':<18} reason"
    for req in d["requirements"]:
        lines.append("")
        lines.append(f"{req['capability']} x{req['count']}")
        if req["candidates"]:
            lines.append(head)
        for i, c in enumerate(req["candidates"], 1):
            lines.append(f"  {i:>2}  {c['resource_id'][:24]:<24} {c['kind'][:16]:<16} {c['mode']:<4} "
                         f"{_eta(c['eta_s']):>8} {c['distance_km']:>8.1f}  {c['relation']:<18} {c['reason']}")
        if req["shortfall"]:
            lines.append(f"  SHORTFALL {req['shortfall']['code']}: {req['shortfall']['detail']}")
    lines.append("")
    lines.append("plan")
    if not d["plan"]:
        lines.append("  (nothing can be assigned)")
    for p in d["plan"]:
        lines.append(f"  {p['requirement']:<18} {p['resource_id'][:24]:<24} {_eta(p['eta_s']):>8}  "
                     f"{p.get('relation', ''):<18} {p.get('reason', '')}")
    if d.get("plan_latest_eta_s") is not None:
        lines.append(f"  latest arrival {_eta(d['plan_latest_eta_s'])}")
    return "\n".join(lines)
