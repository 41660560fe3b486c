"""SQL tables owned by rescue (the resources table lives in resources.tables).

The schema is made and changed by the migrations in rescue/migrations; these Table objects
describe the head revision for queries (a test checks they agree).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from resources.tables import UTCDateTime

metadata = MetaData()

# BigInteger on PostgreSQL, INTEGER on SQLite (so that it is the rowid alias and autoincrements).
SeqType = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("type", String(64), nullable=False),
    Column("area", String(32), nullable=False),
    Column("exercise", String(64), nullable=True),
    Column("payload", JSON, nullable=False),
    # " a b ": every area the event concerns, and every unit it names (see migration 0002)
    Column("areas", Text, nullable=False, server_default=""),
    Column("category", String(40), nullable=True),
    Column("units", Text, nullable=False, server_default=""),
    Index("ix_events_area", "area"),
    Index("ix_events_exercise_seq", "exercise", "seq"),
    Index("ix_events_time", "time"),
    sqlite_autoincrement=True,
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("severity", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("area", String(32), nullable=False),
    Column("exercise", String(64), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("data", JSON, nullable=False),
    Index("ix_incidents_area", "area"),
    Index("ix_incidents_status", "status"),
)

# A client message id per field unit: a resend after a dropped link is not applied twice.
client_messages = Table(
    "client_messages",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("message_id", String(80), primary_key=True),
    Column("seq", SeqType, nullable=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=True),
)

# The incident each unit works on now (a projection kept by assign/release in the same
# transaction): a position of a unit on mutual aid also concerns the incident's area.
unit_assignments = Table(
    "unit_assignments",
    metadata,
    Column("resource_id", String(64), primary_key=True),
    Column("incident_id", String(40), nullable=False),
    Column("incident_area", String(32), nullable=False),
    Column("category", String(40), nullable=False),
    Column("exercise", String(64), nullable=True),
    Index("ix_unit_assignments_incident", "incident_id"),
)

# Long work (imports, simulations, replays, reports): state and progress shared by every server
# process and Celery worker; the input travels with the row so any worker can pick it up.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", String(400), nullable=True),
    Column("owner", String(200), nullable=False),
    Column("area", String(32), nullable=True),
    Column("params", JSON, nullable=False),
    Column("input", LargeBinary, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
)

# Tokens withdrawn before they expire (by digest; see rescue.auth.token_id).
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(100), nullable=False),
)

# Exercises (DESIGN §11): a scenario run with its own id; its incidents, unit copies and events
# carry that id. The scenario text is kept so any worker can run it and a report can cite it.
exercises = Table(
    "exercises",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("scenario", String(40), nullable=False),
    Column("scenario_text", Text, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("scale", Float, nullable=False, default=1.0),
    Column("mode", String(16), nullable=False),
    Column("speed", Float, nullable=True),
    Column("owner", String(200), nullable=False),
    Column("area", String(32), nullable=True),
    Column("state", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("sim_time", UTCDateTime, nullable=True),
    Column("message", String(400), nullable=True),
    Column("error", JSON, nullable=True),
    Column("job_id", String(40), nullable=True),
    Column("parent", String(64), nullable=True),
    Column("summary", JSON, nullable=True),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("fork", JSON, nullable=True),  # {"replay", "time"}: a what-if from that moment
    Column("trainees", JSON, nullable=True),  # labels of the operators who joined it
    # Its clock while it runs (trainees in the loop): the simulated moment at a wall moment.
    Column("clock_wall", UTCDateTime, nullable=True),
    Column("clock_sim", UTCDateTime, nullable=True),
)

# A replay's shared clock (DESIGN §11): every server reads where it stands from this row.
replays = Table(
    "replays",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("source", JSON, nullable=False),  # {"exercise"} | {"incident", "units"} | {"area"}
    Column("exercise", String(64), nullable=True),  # whose events (None: the live log)
    Column("area", String(32), nullable=False),  # who may watch: whoever covers it
    Column("seq_from", BigInteger, nullable=False),  # events after it ...
    Column("seq_to", BigInteger, nullable=False),  # ... up to it
    Column("time_from", UTCDateTime, nullable=False),
    Column("time_to", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # paused | playing
    Column("speed", Float, nullable=True),  # None: as fast as possible
    Column("anchor_wall", UTCDateTime, nullable=False),
    Column("anchor_time", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False, default=0),  # bumped by every seek
    Column("reached_time", UTCDateTime, nullable=True),  # as fast as possible: how far
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    # the job folding it ahead (simulations.prepare), when its slice was long enough
    Column("prepare_job", String(40), nullable=True),
)

# A replay's picture saved along its fold (simulations.checkpoints): `key` names whose events
# were folded (the viewer and the slice's filter), `seq` how far; the log below never changes.
picture_checkpoints = Table(
    "picture_checkpoints",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),  # every event up to it folded
    Column("max_time", UTCDateTime, nullable=False),  # the latest recorded time among them
    Column("body", LargeBinary, nullable=False),  # the picture, JSON, zlib
    Column("created", UTCDateTime, nullable=False),
)

# Incident chat (DESIGN §13): each message by the seq of its `message.posted` event.
incident_messages = Table(
    "incident_messages",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("incident_id", String(40), nullable=False),
    Column("id", String(80), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_incident_messages_incident_seq", "incident_id", "seq"),
)

# Directives (DESIGN §13): the current state of each, beside its events. `areas`, `units`,
# `category` and `exercise` are kept the events' way so one visibility rule scopes both;
# `recipients` (" unit:ID area:CODE ") finds what is addressed to a unit or a centre.
directives = Table(
    "directives",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("exercise", String(64), nullable=True),
    Column("incident_id", String(40), nullable=True),
    Column("issued", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("awaiting", Boolean, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("overdue_seq", BigInteger, nullable=True),
    Column("areas", Text, nullable=False),
    Column("units", Text, nullable=False),
    Column("recipients", Text, nullable=False),
    Column("category", String(40), nullable=True),
    Column("data", JSON, nullable=False),
    Index("ix_directives_closed_deadline", "closed", "deadline"),
    Index("ix_directives_exercise", "exercise"),
)

# Scene media (DESIGN §13): each item's metadata by the seq of its event; the bytes are in a
# blob store (files under the data dir, or media_blobs when servers share only the database).
media = Table(
    "media",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("incident_id", String(40), nullable=False),
    Column("exercise", String(64), nullable=True),
    Column("kind", String(8), nullable=False),
    Column("stream", String(64), nullable=True),
    Column("time", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_media_incident_kind_seq", "incident_id", "kind", "seq"),
    Index("ix_media_incident_stream_seq", "incident_id", "stream", "seq"),
)

media_blobs = Table(
    "media_blobs",
    metadata,
    Column("key", String(96), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
