"""An incident as a CAP 1.2 alert (OASIS Common Alerting Protocol), and an Atom feed of them.

Public warning systems, broadcasters and neighbouring agencies exchange CAP; this is how an
incident leaves the system for them. The message follows the incident's life: `Alert` when it
is reported, `Update` after any change (referencing the first alert), `Cancel` when it is
closed; `Exercise` instead of `Actual` for an exercise's incidents. Times are written as CAP
wants them (an offset, never `Z`); the area is a circle sized by the grade, with the
administrative codes (GB/T 2260, township codes GB/T 10114) as geocodes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from rescue.incidents import Incident

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/cap+xml"

# category -> (CAP category, event in words, response type or None)
CATEGORIES: dict[str, tuple[str, str, str | None]] = {
    "maritime_distress": ("Rescue", "船舶遇险 Vessel in distress", "Execute"),
    "person_overboard": ("Rescue", "人员落水 Person in the water", "Execute"),
    "vessel_fire": ("Fire", "船舶火灾 Vessel fire", "Avoid"),
    "building_collapse": ("Rescue", "建筑倒塌 Building collapse", "Avoid"),
    "flood": ("Met", "洪涝 Flood", "Evacuate"),
    "typhoon_evacuation": ("Met", "台风转移 Typhoon evacuation", "Evacuate"),
    "landslide": ("Geo", "山体滑坡 Landslide", "Evacuate"),
    "mountain_rescue": ("Rescue", "山地救援 Mountain rescue", "Monitor"),
    "traffic_accident": ("Transport", "交通事故 Traffic accident", "Avoid"),
    "fire": ("Fire", "火灾 Fire", "Avoid"),
    "hazmat": ("CBRNE", "危化品泄漏 Hazardous materials", "Shelter"),
    "medical_evacuation": ("Health", "医疗转运 Medical evacuation", "Monitor"),
    "missing_person": ("Rescue", "人员失踪 Missing person", "Monitor"),
}
SEVERITY = {"I": "Extreme", "II": "Severe", "III": "Moderate", "IV": "Minor"}
RADIUS_KM = {"I": 20.0, "II": 10.0, "III": 3.0, "IV": 1.0}
URGENCY = {"reported": "Immediate", "responding": "Immediate", "on_scene": "Immediate",
           "contained": "Expected", "closed": "Past"}
CERTAINTY = {"reported": "Likely"}  # anything later has been seen by a unit: Observed


def geocode_scheme(code: str) -> str:
    """Counties and above are GB/T 2260 codes, townships GB/T 10114; a maritime sector (its
    county's or city's code and M) is this system's own."""
    if code.endswith("M"):
        return "rescue:maritime-sector"
    return "GB/T 10114" if len(code) > 6 else "GB/T 2260"


def lead_name(inc: Incident) -> str:
    for a in (*inc.areas, *((inc.maritime,) if inc.maritime else ())):
        if a.code == inc.lead_area:
            return a.name
    return inc.areas[-1].name


def cap_time(t: datetime) -> str:
    """CAP dateTime: seconds, an explicit offset (`Z` is not allowed)."""
    return t.astimezone(UTC).replace(microsecond=0).isoformat()


def identifier(inc: Incident, version: int | None = None) -> str:
    return f"{inc.id}.v{version if version is not None else inc.version}"


def msg_type(inc: Incident) -> str:
    if inc.status == "closed":
        return "Cancel"
    return "Alert" if inc.version <= 1 else "Update"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _value(parent: ET.Element, tag: str, name: str, value: str) -> None:
    el = _sub(parent, tag)
    _sub(el, "valueName", name)
    _sub(el, "value", value)


def _description(inc: Incident) -> str:
    parts = [f"{inc.title}.", f"Persons at risk: {inc.persons_at_risk}.",
             f"Status: {inc.status}; grade {inc.severity}; lead: {inc.lead_level} "
             f"({inc.lead_area})."]
    active = inc.active_assignments()
    if active:
        parts.append(f"Units assigned: {len(active)}.")
    if inc.sitreps:
        parts.append(f"Latest report: {inc.sitreps[-1].text}")
    return " ".join(parts)


def alert(inc: Incident, *, sender: str, now: datetime, sender_name: str | None = None,
          web: str | None = None) -> ET.Element:
    """The incident's CAP alert as an element tree."""
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", identifier(inc))
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(now))
    _sub(root, "status", "Exercise" if inc.exercise else "Actual")
    kind = msg_type(inc)
    _sub(root, "msgType", kind)
    _sub(root, "source", "rescue coordination system")
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", "For emergency response agencies: "
         + " / ".join(a.name for a in inc.areas))
    if inc.exercise:
        _sub(root, "note", f"Exercise {inc.exercise}: not a real incident")
    if kind != "Alert":
        _sub(root, "references", f"{sender},{identifier(inc, 1)},{cap_time(inc.reported_at)}")
    _sub(root, "incidents", inc.id)
    cap_category, event, response = CATEGORIES.get(inc.category,
                                                   ("Other", inc.category, None))
    info = _sub(root, "info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", cap_category)
    _sub(info, "event", event)
    if response and inc.status != "closed":
        _sub(info, "responseType", response)
    elif inc.status == "closed":
        _sub(info, "responseType", "AllClear")
    _sub(info, "urgency", URGENCY.get(inc.status, "Unknown"))
    _sub(info, "severity", SEVERITY.get(inc.severity, "Unknown"))
    _sub(info, "certainty", CERTAINTY.get(inc.status, "Observed"))
    _value(info, "eventCode", "rescue:category", inc.category)
    _sub(info, "effective", cap_time(inc.reported_at))
    _sub(info, "senderName", sender_name or f"{lead_name(inc)} 应急指挥中心 (emergency command)")
    _sub(info, "headline", f"{event}: {inc.title}"[:160])
    _sub(info, "description", _description(inc))
    if web:
        _sub(info, "web", web)
    for name, value in (("grade", inc.severity), ("status", inc.status),
                        ("persons_at_risk", str(inc.persons_at_risk)),
                        ("lead_level", inc.lead_level), ("surface", inc.surface)):
        _value(info, "parameter", name, value)
    area = _sub(info, "area")
    _sub(area, "areaDesc", " / ".join(a.name for a in inc.areas))
    _sub(area, "circle", f"{inc.lat:.5f},{inc.lon:.5f} {RADIUS_KM.get(inc.severity, 1.0):g}")
    codes = [a.code for a in inc.areas]
    if inc.maritime is not None and inc.maritime.code not in codes:
        codes.append(inc.maritime.code)
    for code in codes:
        _value(area, "geocode", geocode_scheme(code), code)
    return root


def to_xml(el: ET.Element) -> bytes:
    """The document, its namespace the default one (as CAP readers expect `<alert xmlns=`)."""
    if not el.tag.startswith("{"):
        return ET.tostring(el, encoding="utf-8", xml_declaration=True)
    return ET.tostring(el, encoding="utf-8", xml_declaration=True,
                       default_namespace=el.tag[1:].split("}")[0])


def feed(incidents: Iterable[Incident], *, title: str, self_url: str, cap_url: Any,
         now: datetime) -> ET.Element:
    """An Atom feed with one entry per incident, linking to its CAP alert (`cap_url(id)`)."""
    root = ET.Element("feed", {"xmlns": ATOM})  # plain names under a default namespace

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, tag, attrs)
        if text is not None:
            el.text = text
        return el

    items = list(incidents)
    sub(root, "id", f"urn:rescue:cap:{self_url}")
    sub(root, "title", title)
    sub(root, "updated", cap_time(max((i.updated_at for i in items), default=now)))
    sub(root, "link", rel="self", href=self_url)
    author = sub(root, "author")
    sub(author, "name", "rescue coordination system")
    for inc in items:
        entry = sub(root, "entry")
        sub(entry, "id", f"urn:rescue:incident:{identifier(inc)}")
        cap_category, event, _ = CATEGORIES.get(inc.category, ("Other", inc.category, None))
        sub(entry, "title", f"{event}: {inc.title}")
        sub(entry, "updated", cap_time(inc.updated_at))
        sub(entry, "summary", f"{msg_type(inc)} · {SEVERITY.get(inc.severity, 'Unknown')} · "
                              f"{' / '.join(a.name for a in inc.areas)}")
        sub(entry, "category", term=cap_category)
        sub(entry, "link", rel="alternate", type=CONTENT_TYPE, href=cap_url(inc.id))
    return root
