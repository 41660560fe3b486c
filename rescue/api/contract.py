"""The HTTP contract, declared once: pydantic v2 models for every body and query, from which
spectree generates the OpenAPI document (`GET /api/v1/openapi.json`) and with which the
handlers validate what they receive (rescue.api.deps.body / query).

Strict: unknown fields are refused, types are not coerced in bodies (a string is not a
number), and every bound the server enforces is in the schema (so the document promises
neither more nor less than the server does). The vocabularies (kinds, capabilities,
statuses, incident categories, area codes) come from the running configuration, so the
document is built per app.

Responses are declared with the fields we send; they allow more (DESIGN §7: shapes may gain
fields), and are checked against the schema by the contract test (schemathesis), not at run
time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from rescue.incidents import INCIDENT_ID_RE, STATUSES
from resources.model import (
    AREA_RE,
    ID_RE,
    MAX_COUNT,
    MAX_RANGE_KM,
    MAX_READINESS_S,
    MAX_SPEED_KMH,
    MAX_VERSION,
    RESERVED_IDS,
)

ID_PATTERN = ID_RE.pattern
# Errors of a route that takes a JSON body (malformed, unauthorised, refused, too large, not JSON).
JSON_ERRORS = (400, 401, 403, 413, 415)
INCIDENT_ID_PATTERN = INCIDENT_ID_RE.pattern
# Text: no control characters (resources.fields refuses them, and lone surrogates, which a
# JSON Schema pattern cannot name); TEXT also needs one character that is not white space.
_CTRL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
PLAIN = rf"^[^{_CTRL}]*$"
TEXT = rf"^[^{_CTRL}]*[^\s{_CTRL}][^{_CTRL}]*$"


def _integral(v: Any) -> Any:
    """JSON Schema counts 2.0 as an integer: so do we (and nothing else: not "2")."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


Int = Annotated[int, BeforeValidator(_integral)]


def whole(lo: int, hi: int) -> Any:
    """An integer from lo to hi (2.0 counts as 2, as in JSON Schema). The bounds come before
    the validator: after it, pydantic would publish them as unknown keywords, not as the
    schema's minimum and maximum."""
    return Annotated[int, Field(ge=lo, le=hi), BeforeValidator(_integral)]


def _not_reserved(v: str) -> str:
    if v in RESERVED_IDS:
        raise ValueError(f"{v!r} is reserved: /resources/{v} is a route")
    return v


ResourceIdText = Annotated[str, Field(pattern=ID_PATTERN, json_schema_extra={
    "not": {"enum": sorted(RESERVED_IDS)}}), AfterValidator(_not_reserved)]
Plain = Annotated[str, Field(pattern=PLAIN)]
Lat = Annotated[float, Field(ge=-90, le=90, description="latitude, WGS84 degrees")]
Lon = Annotated[float, Field(ge=-180, le=180, description="longitude, WGS84 degrees")]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), BeforeValidator(_integral)]  # as whole()
MessageId = Annotated[str, Field(min_length=1, max_length=80, pattern=PLAIN)]
Time = Annotated[str, Field(description="ISO 8601 with a zone, e.g. 2026-07-01T08:00:00Z",
                            json_schema_extra={"format": "date-time"})]
INCIDENT_STATUSES = STATUSES


class Strict(BaseModel):
    """Request bodies: unknown fields refused, no coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Lax(BaseModel):
    """Query strings: values arrive as text and are converted; unknown names refused."""

    model_config = ConfigDict(extra="forbid")


class ActionIn(Strict):
    """No fields: the body of an action may be omitted (or `{}`)."""


class Out(BaseModel):
    """Responses: the fields we send; clients must accept more (shapes may gain fields)."""

    model_config = ConfigDict(extra="allow")


def _literal(values: Iterable[str]) -> Any:
    vals = tuple(sorted(set(values)))
    return Literal[vals]  # type: ignore[valid-type]


# ----------------------------------------------------------------------------- shared out


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None


class ErrorOut(Out):
    """Every failure: 4xx with the field named where one is to blame."""

    error: ErrorDetail


class Point(Out):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)


class AnyGeometry(Out):
    type: str
    coordinates: list[Any]


class AreaRefOut(Out):
    code: str
    name: str
    level: int


class HomeOut(Out):
    name: str | None
    lat: float
    lon: float


class ResourceOut(Out):
    id: str
    name: str
    call_sign: str | None
    kind: str
    tier: str | None
    agency: str | None
    capabilities: list[str]
    crew: int
    capacity: int
    speed_kmh: float
    readiness_s: float
    range_km: float | None
    home: HomeOut
    lat: float | None
    lon: float | None
    position_time: str | None
    status: str
    status_time: str | None
    area: str
    exercise: str | None
    version: int
    mmsi: str | None = None
    cot_uid: str | None = None


class ResourceFeature(Out):
    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: ResourceOut


class ResourceCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[ResourceFeature]


class AssignmentOut(Out):
    resource_id: str
    requirement: str | None
    eta_s: int | None
    assigned_at: str
    assigned_by: str
    released_at: str | None
    active: bool


class SitrepOut(Out):
    id: str
    time: str
    author: str
    text: str
    casualties: int
    persons_rescued: int
    needs: list[str]


class IncidentOut(Out):
    id: str
    title: str
    category: str
    severity: Literal["I", "II", "III", "IV"]
    lat: float
    lon: float
    persons_at_risk: int
    status: str
    areas: list[AreaRefOut]
    area: str
    surface: str
    maritime: AreaRefOut | None
    lead_level: str
    lead_area: str
    led_for: str | None
    weather: dict[str, float] | None
    assignments: list[AssignmentOut]
    sitreps: list[SitrepOut]
    reported_at: str
    updated_at: str
    exercise: str | None
    version: int


class IncidentFeature(Out):
    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: IncidentOut


class IncidentCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[IncidentFeature]


class CandidateOut(Out):
    resource_id: str
    kind: str
    mode: str
    eta_s: int
    distance_km: float
    relation: str
    reason: str
    name: str | None = None
    call_sign: str | None = None
    area: str | None = None
    assignable: bool | None = None


class ShortfallOut(Out):
    code: str
    detail: str


class RequirementOut(Out):
    capability: str
    count: int
    candidates: list[CandidateOut]
    shortfall: ShortfallOut | None


class PlanItemOut(Out):
    requirement: str
    resource_id: str
    eta_s: int


class SuggestionOut(Out):
    incident: str | None
    requirements: list[RequirementOut]
    plan: list[PlanItemOut]


class EventOut(Out):
    seq: int
    id: str
    time: str
    type: str
    area: str
    areas: list[str]
    category: str | None
    units: list[str]
    exercise: str | None
    payload: dict[str, Any]


class EventPage(Out):
    events: list[EventOut]
    last_seq: int


class JobOut(Out):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    message: str | None
    owner: str
    area: str | None
    params: dict[str, Any]
    result: Any
    error: Any
    created: str
    updated: str


class JobAccepted(Out):
    job: JobOut


class ImportSummary(Out):
    created: int
    updated: int
    total: int


class ReportOut(Out):
    ok: Literal[True]
    applied: bool
    duplicate: bool
    ignored: str | None
    seq: int | None
    resource: ResourceOut | None


class SitrepCreated(Out):
    incident: IncidentOut
    sitrep_id: str | None
    seq: int | None
    duplicate: bool


class HealthOut(Out):
    status: Literal["ok"]
    database: str
    pubsub: str
    resources_indexed: int
    time: str


class AreaOut(Out):
    code: str
    name: str
    level: int
    parent: str | None
    kind: str
    approximate: bool


class AreaDetail(AreaOut):
    ancestors: list[AreaOut]
    children: list[AreaOut]
    neighbours: list[str]


class AreaFeature(Out):
    type: Literal["Feature"]
    geometry: AnyGeometry
    properties: dict[str, Any]


class FeatureCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[AreaFeature]


class LocateOut(Out):
    lat: float
    lon: float
    surface: Literal["land", "sea"]
    shore: bool
    areas: list[AreaOut]
    area: str | None
    maritime: AreaOut | None


class LayerRef(Out):
    name: str
    url: str


class LayersOut(Out):
    layers: list[LayerRef]


class ConsoleSettings(Out):
    tile_url: str | None
    max_position_age_s: int
    dispatch_amber_s: int
    dispatch_red_s: int


class Vocabulary(Out):
    categories: list[str]
    severities: list[str]
    kinds: dict[str, str]
    statuses: list[str]
    capabilities: list[str]
    incident_statuses: list[str]


class MeOut(Out):
    """Who a token speaks for, and what the console needs to know to serve them."""

    role: str
    name: str
    area: str | None
    area_name: str | None
    area_name_en: str | None
    level: int | None
    categories: list[str] | None
    resource: str | None
    expires_at: str | None
    settings: ConsoleSettings
    vocabulary: Vocabulary


class RevokedOut(Out):
    token_id: str
    revoked: bool
    expires_at: str


# ----------------------------------------------------------------------------- in


class WeatherIn(Strict):
    wind_kmh: float | None = Field(None, ge=0, le=1000)
    visibility_km: float | None = Field(None, ge=0, le=1000)
    wave_m: float | None = Field(None, ge=0, le=100)


class HomeIn(Strict):
    name: Plain | None = Field(None, max_length=200)
    lat: Lat
    lon: Lon


class SitrepIn(Strict):
    text: str = Field(min_length=1, max_length=4000, pattern=TEXT)
    casualties: Count = 0
    persons_rescued: Count = 0
    needs: list[Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]] = Field(
        default_factory=list, max_length=50)
    client_id: MessageId | None = None


class PositionIn(Strict):
    lat: Lat
    lon: Lon
    time: Time | None = None
    speed_kmh: float | None = Field(None, ge=0, le=5000)
    heading: float | None = Field(None, ge=0, le=360)
    client_id: MessageId | None = None


class RevokeIn(Strict):
    token: str = Field(min_length=1, max_length=4096)


class MessageIn(Strict):
    """A chat message on an incident's thread."""

    id: MessageId | None = Field(None, description="the client's message id: a resend with "
                                 "the same id is stored once (or send Idempotency-Key)")
    text: str = Field(min_length=1, max_length=2000, pattern=TEXT)


class MessageOut(Out):
    id: str
    incident_id: str
    seq: int
    text: str
    time: str
    author: str
    role: str
    level: str | None


class MessageCreated(MessageOut):
    duplicate: bool


class MessageList(Out):
    messages: list[MessageOut]


class MessagesQuery(Lax):
    after: int = Field(0, ge=0, le=2**62, description="messages after this seq")
    limit: int = Field(200, ge=1, le=1000)


class EventsQuery(Lax):
    after: int = Field(0, ge=0, le=2**62, description="events after this seq")
    limit: int = Field(100, ge=1, le=1000)
    area: str | None = Field(None, pattern=AREA_RE.pattern,
                             description="only events concerning this area (in your scope)")
    type: str | None = Field(None, pattern=r"^[a-z_.]{1,64}$",
                             description="event type prefix, e.g. incident.")
    exercise: str | None = Field(None, pattern=ID_PATTERN)


class LocateQuery(Lax):
    lat: Lat
    lon: Lon


class SuggestionsQuery(Lax):
    k: int = Field(5, ge=1, le=50, description="candidates per requirement")


@dataclass
class Contract:
    """The models of one app (their vocabularies are the app's) and the spectree instance
    that documents the routes decorated with `spec.validate(...)`."""

    spec: SpecTree
    models: dict[str, type[BaseModel]]
    # Operations whose bodies are bytes, not JSON: (OpenAPI path, method) -> {"request":
    # media type, "response": {status: media type}}, written into the document by
    # rescue.api.openapi (spectree describes JSON and forms only).
    binary: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def bytes_in(self, path: str, method: str, media_type: str) -> None:
        self.binary.setdefault((path, method), {})["request"] = media_type

    def bytes_out(self, path: str, method: str, media_types: str, status: int = 200) -> None:
        self.binary.setdefault((path, method), {}).setdefault("response", {})[
            str(status)] = media_types

    def __getattr__(self, name: str) -> type[BaseModel]:
        try:
            return self.models[name]
        except KeyError:
            raise AttributeError(name) from None

    def resp(self, ok: int | None = 200, model: type[BaseModel] | None = None, *,
             errors: Iterable[int] = (400, 401, 403, 404)) -> Response:
        codes: dict[str, Any] = {f"HTTP_{c}": ErrorOut for c in errors}
        if ok == 204:
            codes["HTTP_204"] = None
        elif ok is not None:
            codes[f"HTTP_{ok}"] = model
        return Response(**codes)


def build(*, kinds: dict[str, str], capabilities: Iterable[str], statuses: Iterable[str],
          categories: Iterable[str], areas: Iterable[str]) -> Contract:
    """The contract for one configuration (vocabularies and area codes)."""
    Kind = _literal(kinds)  # noqa: N806 - a type
    AirKind = _literal(k for k, m in kinds.items() if m == "air")  # noqa: N806
    SurfaceKind = _literal(k for k, m in kinds.items() if m != "air")  # noqa: N806
    Capability = _literal(capabilities)  # noqa: N806
    Status = _literal(statuses)  # noqa: N806
    Category = _literal(categories)  # noqa: N806
    AreaCode = _literal(areas)  # noqa: N806
    Severity = Literal["I", "II", "III", "IV"]  # noqa: N806 - rescue.incidents.SEVERITIES
    IncidentStatus = _literal(INCIDENT_STATUSES)  # noqa: N806
    Caps = Annotated[list[Capability], Field(max_length=64, json_schema_extra={  # type: ignore[valid-type]
        "uniqueItems": True})]
    together: Any = {"dependentRequired": {"lat": ["lon"], "lon": ["lat"],
                                           "position_time": ["lat", "lon"]}}

    class ResourceBase(Strict):
        model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=together)
        id: ResourceIdText | None = None
        name: str = Field(min_length=1, max_length=200, pattern=TEXT)
        call_sign: Plain | None = Field(None, max_length=64)
        tier: Plain | None = Field(None, max_length=64)
        agency: Plain | None = Field(None, max_length=200)
        capabilities: Caps = Field(default_factory=list)  # type: ignore[valid-type]
        crew: Count = 0
        capacity: Count = 0
        speed_kmh: float = Field(gt=0, le=MAX_SPEED_KMH)
        readiness_s: float = Field(gt=0, le=MAX_READINESS_S)
        home: HomeIn
        lat: Lat | None = None
        lon: Lon | None = None
        position_time: Time | None = None
        status: Status = "available"  # type: ignore[valid-type]
        status_time: Time | None = None
        area: AreaCode  # type: ignore[valid-type]
        exercise: str | None = Field(None, pattern=ID_PATTERN)
        version: whole(1, MAX_VERSION) | None = None  # type: ignore[valid-type]
        mmsi: str | None = Field(None, pattern=r"^\d{9}$", description="its AIS transponder")
        cot_uid: str | None = Field(None, pattern=r"^[!-~]{1,64}$",
                                    description="its TAK client's Cursor-on-Target uid")

    class AircraftIn(ResourceBase):
        """An aircraft: its range is required (the ETA model refuses beyond it)."""

        kind: AirKind  # type: ignore[valid-type]
        range_km: float = Field(gt=0, le=MAX_RANGE_KM)

    class SurfaceUnitIn(ResourceBase):
        kind: SurfaceKind  # type: ignore[valid-type]
        range_km: float | None = Field(None, gt=0, le=MAX_RANGE_KM)

    class ResourceIn(RootModel[Annotated[AircraftIn | SurfaceUnitIn,  # type: ignore[valid-type]
                                         Field(discriminator="kind")]]):
        """A new resource (or one row of an import); aircraft need their range."""

    class ResourcePatch(Strict):
        """Changed fields only; `version` (if given) must be the stored one."""

        model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=together)
        name: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
        call_sign: Plain | None = Field(None, max_length=64)
        kind: Kind | None = None  # type: ignore[valid-type]
        tier: Plain | None = Field(None, max_length=64)
        agency: Plain | None = Field(None, max_length=200)
        capabilities: Caps | None = None  # type: ignore[valid-type]
        crew: Count | None = None
        capacity: Count | None = None
        speed_kmh: float | None = Field(None, gt=0, le=MAX_SPEED_KMH)
        readiness_s: float | None = Field(None, gt=0, le=MAX_READINESS_S)
        range_km: float | None = Field(None, gt=0, le=MAX_RANGE_KM)
        home: HomeIn | None = None
        lat: Lat | None = None
        lon: Lon | None = None
        position_time: Time | None = None
        status: Status | None = None  # type: ignore[valid-type]
        status_time: Time | None = None
        area: AreaCode | None = None  # type: ignore[valid-type]
        version: whole(1, MAX_VERSION) | None = None  # type: ignore[valid-type]
        mmsi: str | None = Field(None, pattern=r"^\d{9}$", description="its AIS transponder")
        cot_uid: str | None = Field(None, pattern=r"^[!-~]{1,64}$",
                                    description="its TAK client's Cursor-on-Target uid")

    class StatusIn(Strict):
        status: Status  # type: ignore[valid-type]
        time: Time | None = None
        note: Plain | None = Field(None, max_length=500)
        client_id: MessageId | None = None

    class IncidentIn(Strict):
        id: str | None = Field(None, pattern=INCIDENT_ID_PATTERN)
        title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
        category: Category  # type: ignore[valid-type]
        severity: Severity
        lat: Lat
        lon: Lon
        persons_at_risk: Count = 0
        weather: WeatherIn | None = None
        exercise: str | None = Field(None, pattern=ID_PATTERN)

    class IncidentPatch(Strict):
        """Only what changes; a field absent or null is left as it is."""

        title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
        severity: Severity | None = None
        status: IncidentStatus | None = None  # type: ignore[valid-type]
        persons_at_risk: Count | None = None
        weather: WeatherIn | None = None
        release_all: bool = False

    class AssignmentIn(Strict):
        resource_id: str = Field(pattern=ID_PATTERN)
        requirement: Capability | None = None  # type: ignore[valid-type]
        eta_s: whole(0, 10**7) | None = None  # type: ignore[valid-type]

    class SuggestIn(Strict):
        lat: Lat
        lon: Lon
        category: Category  # type: ignore[valid-type]
        severity: Severity
        k: whole(1, 50) = 5  # type: ignore[valid-type]
        weather: WeatherIn | None = None
        exercise: str | None = Field(None, pattern=ID_PATTERN)

    class ResourcesQuery(Lax):
        kind: str | None = Field(None, description="comma-separated kinds: " + ", ".join(
            sorted(kinds)), pattern=_list_pattern(kinds))
        status: str | None = Field(None, description="comma-separated statuses",
                                   pattern=_list_pattern(statuses))
        capability: str | None = Field(None, description="comma-separated; all required",
                                       pattern=_list_pattern(capabilities))
        area: AreaCode | None = Field(None, description="owning area under this code")  # type: ignore[valid-type]
        bbox: str | None = Field(None, description="min_lon,min_lat,max_lon,max_lat",
                                 pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$")
        near_lat: Lat | None = None
        near_lon: Lon | None = None
        radius_km: float | None = Field(None, gt=0, le=20000)
        exercise: str | None = Field(None, pattern=ID_PATTERN)
        limit: int = Field(5000, ge=1, le=100_000)
        offset: int = Field(0, ge=0, le=10**9)

    class ExportQuery(ResourcesQuery):
        format: Literal["geojson", "csv", "gpkg"] = "geojson"

    class ImportQuery(Lax):
        format: Literal["geojson", "json", "csv", "gpkg"] | None = None
        # a flag: true/1/yes start a background job
        async_: bool = Field(False, alias="async")

    class IncidentsQuery(Lax):
        area: AreaCode | None = None  # type: ignore[valid-type]
        status: str | None = Field(None, description="comma-separated statuses",
                                   pattern=_list_pattern(INCIDENT_STATUSES))
        category: Category | None = None  # type: ignore[valid-type]
        exercise: str | None = Field(None, pattern=ID_PATTERN)
        limit: int = Field(200, ge=1, le=5000)
        offset: int = Field(0, ge=0, le=10**9)

    class AreasQuery(Lax):
        level: int | None = Field(None, ge=1, le=4)
        parent: AreaCode | None = None  # type: ignore[valid-type]

    from rescue.api.paths import ShapedFlaskPlugin

    spec = SpecTree(
        "flask", backend=ShapedFlaskPlugin, title="Rescue coordination API", version="1.0.0", mode="strict",
        path="api/v1/docs", annotations=False,
        description=("Land-sea-air rescue coordination (DESIGN §7). Coordinates WGS84; km, "
                     "seconds, km/h; ISO 8601 UTC. Errors: {error: {code, message, field}}."),
        security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(
            type=SecureType.HTTP, scheme="bearer",
            description="a token from `rescue token create` (it expires; it can be revoked)"))],
        security={"bearer": []}, validation_error_status=400, validation_error_model=ErrorOut,
        naming_strategy=_unique_names(),
        nested_naming_strategy=lambda _parent, child: child)
    models = {k: v for k, v in locals().items()
              if isinstance(v, type) and issubclass(v, BaseModel)}
    return Contract(spec, models)


def _unique_names() -> Any:
    """Components are named by class name; two models of one name (a plugin's and ours) would
    silently publish one schema for both, so the second one stops the start instead."""
    seen: dict[str, type] = {}

    def name_of(model: type) -> str:
        first = seen.setdefault(model.__name__, model)
        if first is not model:
            raise ValueError(f"two contract models are named {model.__name__}: "
                             f"{first.__module__} and {model.__module__}; rename one")
        return model.__name__

    return name_of


def _list_pattern(values: Iterable[str]) -> str:
    alt = "|".join(sorted(set(values)))
    return rf"^({alt})(,({alt}))*$"
