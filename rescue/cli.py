"""The `rescue` command line (DESIGN §3)."""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from pathlib import Path
from typing import Any

from rescue.config import Config, ConfigError
from rescue.dispatch.plans import PlanError
from rescue.gcpolicy import settle_long_lived
from resources.errors import ResourceError

log = logging.getLogger("rescue")


def _parser(commands: dict) -> argparse.ArgumentParser:
    """The parser; plugins add their subcommands, and their handlers to `commands`."""
    from rescue.plugins import load_plugins

    p = argparse.ArgumentParser(prog="rescue", description="Land-sea-air rescue coordination")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve the HTTP API and Socket.IO")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--demo", action="store_true", help="load the Wenzhou demo data first")

    sub.add_parser("worker", help="run a Celery worker for long jobs (needs REDIS_URL)")

    t = sub.add_parser("token", help="tokens").add_subparsers(dest="token_cmd", required=True)
    tc = t.add_parser("create", help="create a bearer token; printed as the last line")
    tc.add_argument("--role", required=True, choices=["operator", "field", "trainer", "admin"])
    g = tc.add_mutually_exclusive_group()
    g.add_argument("--area")
    g.add_argument("--resource")
    tc.add_argument("--categories", help="comma-separated incident categories (a desk)")
    tc.add_argument("--name", default="")
    tc.add_argument("--ttl", type=int, help="seconds until it expires (default: 12 h admin, "
                    "24 h operator, 7 days trainer, 30 days field)")
    tr = t.add_parser("revoke", help="withdraw a token before it expires (every server "
                      "refuses it within about a second)")
    tr.add_argument("token")

    a = sub.add_parser("areas", help="areas").add_subparsers(dest="areas_cmd", required=True)
    ai = a.add_parser("import", help="replace area boundaries from a file geopandas reads")
    ai.add_argument("file", type=Path)

    rd = sub.add_parser("roads", help="road network").add_subparsers(dest="roads_cmd", required=True)
    rdi = rd.add_parser("import", help="import an OSM extract (.osm, .osm.gz/.bz2, .pbf with osmium)")
    rdi.add_argument("file", type=Path)
    rdi.add_argument("--bbox", help="min_lon,min_lat,max_lon,max_lat to keep")

    r = sub.add_parser("resources", help="registry").add_subparsers(dest="res_cmd", required=True)
    ri = r.add_parser("import", help="import GeoJSON, CSV or GeoPackage (all or nothing)")
    ri.add_argument("file", type=Path)

    sg = sub.add_parser("suggest", help="suggest resources for a point")
    sg.add_argument("--lat", type=float, required=True)
    sg.add_argument("--lon", type=float, required=True)
    sg.add_argument("--category", required=True)
    sg.add_argument("--severity", required=True)
    sg.add_argument("-k", type=int, default=5)
    sg.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sub.add_parser("demo", help="load the demo data and print the demo tokens")

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="migrate the database to this release's schema (keeps data)")
    db.add_parser("revision", help="print the database's schema revision and this release's")

    jb = sub.add_parser("job", help=argparse.SUPPRESS).add_subparsers(dest="job_cmd", required=True)
    jr = jb.add_parser("run", help="run one queued job (used by the embedded server)")
    jr.add_argument("job_id")

    fd = sub.add_parser("field", help="drive a field unit over /field (drills and demos)")
    fd.add_argument("--unit", required=True, help="the unit's resource id")
    fd.add_argument("--token", required=True, help="the unit's field token")
    fd.add_argument("--url", default="http://127.0.0.1:5000")
    fd.add_argument("--route", type=Path, help="GeoJSON LineString, JSON [[lat, lon], ...] or "
                    "CSV lat,lon; without it the unit circles its home base")
    fd.add_argument("--speed", type=float, help="km/h (default: the unit's cruise speed)")
    fd.add_argument("--interval", type=float, default=1.0, help="seconds between fixes")
    fd.add_argument("--loop", action="store_true", help="start the route again at its end")
    fd.add_argument("--count", type=int, help="stop after this many fixes")
    ais = sub.add_parser("ais", help="AIS (NMEA) feeds").add_subparsers(dest="ais_cmd",
                                                                      required=True)
    aisi = ais.add_parser("import", help="apply a recorded NMEA log (!AIVDM sentences, tag "
                          "blocks allowed): registered vessels move, distress beacons alarm")
    aisi.add_argument("file", type=Path)
    tak = sub.add_parser("tak", help="TAK (CoT) clients").add_subparsers(dest="tak_cmd",
                                                                       required=True)
    te = tak.add_parser("enroll", help="issue a unit a client certificate for the CoT TLS port, "
                        "as a connection data package ATAK and WinTAK import")
    te.add_argument("unit", help="the unit's id (it is given a cot_uid if it has none)")
    te.add_argument("--host", required=True, help="the address TAK clients reach this server at")
    te.add_argument("--port", type=int, default=8089, help="the CoT TLS port (default 8089)")
    te.add_argument("--out", type=Path, help="where to write the .zip (default: ./UNIT.zip)")
    for plugin in load_plugins():
        if hasattr(plugin, "add_commands"):
            commands.update(plugin.add_commands(sub))
    return p


def main(argv: list[str] | None = None) -> int:
    commands = dict(_COMMANDS)
    args = _parser(commands).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = Config.from_env()
        return commands[args.command](config, args)
    except (ConfigError, PlanError) as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except ResourceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _context(config: Config):  # noqa: ANN202
    from rescue.context import RescueContext

    return RescueContext(config)


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from rescue.app import create_app
    from rescue.context import RescueContext

    ctx = RescueContext(config)
    app = create_app(config, context=ctx, async_mode="gevent", start_realtime=True)
    if args.demo:
        from rescue.demo import demo_tokens, load_demo

        summary = load_demo(ctx)
        log.info("demo data: %s", summary)
        _print_tokens(demo_tokens(ctx))
    from rescue.warmup import warm_geography

    warm_geography(ctx.geography)
    if n := ctx.runner.resume_queued():
        log.info("%d jobs left queued by an earlier run handed to the runner again", n)
    settle_long_lived()
    url = f"http://{args.host}:{args.port}"
    print(f"rescue serving on {url}  (API {url}/api/v1, OpenAPI {url}/api/v1/openapi.json)",
          flush=True)
    from rescue.serve import serve

    def shut_down() -> None:
        app.extensions["rescue_realtime"].stop()
        ctx.close()

    serve(app, args.host, args.port, on_stop=shut_down)
    return 0


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from rescue.demo import demo_tokens, load_demo

    ctx = _context(config)
    print(json.dumps(load_demo(ctx)))
    _print_tokens(demo_tokens(ctx))
    return 0


def _print_tokens(tokens: list[tuple[str, str, str, str]]) -> None:
    print("demo tokens (send as 'Authorization: Bearer <token>'):")
    print(f"  {'role':<8} {'scope':<22} token  (who)")
    for role, scope, token, name in tokens:
        print(f"  {role:<8} {scope:<22} {token}  ({name})")
    sys.stdout.flush()


def cmd_worker(config: Config, args: argparse.Namespace) -> int:
    if not config.redis_url:
        raise ConfigError("REDIS_URL: the worker needs a broker, e.g. redis://127.0.0.1:6379/0")
    from rescue.worker import make_celery

    celery = make_celery(config)
    celery.worker_main(["worker", "--loglevel=INFO", "--concurrency=2", "--without-gossip",
                        "--without-mingle", "--hostname", f"rescue@{socket.gethostname()}"])
    return 0


def cmd_token(config: Config, args: argparse.Namespace) -> int:
    from rescue.auth import Principal, TokenService

    if args.token_cmd == "revoke":
        from rescue.services.tokens import revoke_token

        ctx = _context(config)
        try:
            out = revoke_token(ctx.uow(), Principal(role="admin", name="cli"),
                               {"token": args.token}, ctx.tokens, ctx.clock())
        finally:
            ctx.close()
        print(f"revoked {out['token_id']} (it would have expired at {out['expires_at']})")
        return 0
    cats = [c.strip() for c in args.categories.split(",")] if args.categories else None
    token = TokenService(config.resolved_secret_key()).issue(
        args.role, area=args.area, resource_id=args.resource, categories=cats, name=args.name,
        ttl_s=args.ttl)
    print(token)
    return 0


def cmd_areas(config: Config, args: argparse.Namespace) -> int:
    from rescue.area_import import import_areas

    n, path = import_areas(config, args.file)
    print(f"imported {n} areas into {path}; restart the server to use them")
    return 0


def cmd_roads(config: Config, args: argparse.Namespace) -> int:
    from rescue.area_import import import_roads
    from rescue.context import utcnow

    bbox: tuple[float, float, float, float] | None = None
    if args.bbox:
        try:
            values = [float(v) for v in args.bbox.split(",")]
        except ValueError:
            values = []
        if len(values) != 4:
            raise ConfigError("--bbox: give min_lon,min_lat,max_lon,max_lat")
        bbox = (values[0], values[1], values[2], values[3])
    meta, path = import_roads(config, args.file, bbox, utcnow())
    print(f"imported {meta.get('nodes')} road nodes, {meta.get('edges')} edges from "
          f"{args.file.name} into {path}; restart the server to use them")
    return 0


def cmd_resources(config: Config, args: argparse.Namespace) -> int:
    from rescue.auth import Principal
    from rescue.services.resources import import_resources
    from resources import io as rio

    ctx = _context(config)
    fmt = args.file.suffix.lower().lstrip(".")
    fmt = {"json": "geojson"}.get(fmt, fmt)
    rows = rio.read_rows(args.file.read_bytes(), fmt)
    log.info("read %d rows from %s", len(rows), args.file)
    summary = import_resources(ctx.uow(), Principal(role="admin", name="cli"), rows, ctx.vocab,
                               ctx.geography.areas, ctx.clock())
    print(json.dumps(summary))
    return 0


def cmd_ais(config: Config, args: argparse.Namespace) -> int:
    from rescue.aisfeed import import_file

    ctx = _context(config)
    shown = [-1]

    def progress(fraction: float, done: Any) -> None:
        pct = int(fraction * 100)
        if pct // 10 != shown[0] // 10 or pct == 100:
            shown[0] = pct
            print(f"{pct:3d}%  {dict(done)}", file=sys.stderr, flush=True)

    try:
        stats, done = import_file(ctx, args.file, progress)
    finally:
        ctx.close()
    print(json.dumps({"sentences": dict(stats), "applied": dict(done)}))
    return 0


def cmd_tak(config: Config, args: argparse.Namespace) -> int:
    from rescue.auth import make_principal
    from rescue.services.resources import update_resource
    from rescue.takpki import TakPki

    ctx = _context(config)
    try:
        with ctx.uow(readonly=True) as uow:
            unit = uow.resources.get(args.unit)
        if unit is None or unit.exercise is not None:
            print(f"error: no live unit {args.unit!r}", file=sys.stderr)
            return 1
        if unit.cot_uid is None:
            unit = update_resource(ctx.uow(), make_principal("admin", name="tak enroll"),
                                   unit.id, {"cot_uid": f"RESCUE-{unit.id}"[:64]}, ctx.vocab,
                                   ctx.geography.areas, ctx.clock())
        assert unit.cot_uid is not None
        package, password = TakPki(config.data_dir / "tak").enroll(
            unit.id, unit.cot_uid, unit.call_sign or unit.name[:40], args.host, args.port)
    finally:
        ctx.close()
    out = args.out or Path(f"{unit.id}.zip")
    out.write_bytes(package)
    out.chmod(0o600)
    print(json.dumps({"unit": unit.id, "cot_uid": unit.cot_uid, "package": str(out),
                      "password": password}))
    return 0


def cmd_suggest(config: Config, args: argparse.Namespace) -> int:
    from rescue.auth import Principal
    from rescue.dispatch.table import format_table
    from rescue.services.dispatch import _suggest_object

    ctx = _context(config)
    suggestion = _suggest_object(ctx, Principal(role="admin", name="cli"), lat=args.lat,
                                 lon=args.lon, category=args.category, severity=args.severity,
                                 weather=None, exercise=None, incident_id=None, k=args.k,
                                 now=ctx.clock())
    print(json.dumps(suggestion.to_dict(), ensure_ascii=False, indent=1) if args.json
          else format_table(suggestion))
    return 0


def cmd_db(config: Config, args: argparse.Namespace) -> int:
    from rescue.db import head_revision, make_engine, schema_revision, upgrade_schema

    engine = make_engine(config.effective_database_url)
    try:
        if args.db_cmd == "upgrade":
            before = schema_revision(engine)
            upgrade_schema(engine)
            print(f"database at {schema_revision(engine)} (was {before or 'empty'})")
        else:
            print(f"database {schema_revision(engine) or 'empty'}; this release {head_revision()}")
    finally:
        engine.dispose()
    return 0


def cmd_job(config: Config, args: argparse.Namespace) -> int:
    from rescue.jobs import run_job_in_child

    ctx = _context(config)
    settle_long_lived()
    try:
        return run_job_in_child(ctx, args.job_id)
    finally:
        ctx.close()


def cmd_field(config: Config, args: argparse.Namespace) -> int:
    import itertools

    import requests

    from realtime.field_client import FieldUnit, drive, load_route, loop_around, walk

    url = args.url.rstrip("/")
    r = requests.get(f"{url}/api/v1/resources/{args.unit}", timeout=10,
                     headers={"Authorization": f"Bearer {args.token}"})
    if r.status_code != 200:
        print(f"error: the server answered {r.status_code} for unit {args.unit}: {r.text[:200]}",
              file=sys.stderr)
        return 1
    unit = r.json()
    speed = args.speed or unit["speed_kmh"]
    if args.route:
        route, loop = load_route(args.route), args.loop
    else:
        start = (unit["lat"], unit["lon"]) if unit.get("lat") is not None else (
            unit["home"]["lat"], unit["home"]["lon"])
        route, loop = loop_around(*start), True
    points = walk(route, speed, args.interval, loop=loop)
    if args.count:
        points = itertools.islice(points, args.count)
    field = FieldUnit(url, args.token)
    print(f"{unit['name']} ({args.unit}): {len(route)} route points at {speed:g} km/h, a fix "
          f"every {args.interval:g} s; Ctrl-C to stop", flush=True)
    try:
        drive(field, points, interval_s=args.interval, speed_kmh=speed)
    except KeyboardInterrupt:
        pass
    finally:
        field.close()
    print(f"acknowledged {field.acked} ({field.duplicates} as resends), refused "
          f"{field.rejected}, unsent {len(field.outbox.items)}", flush=True)
    return 0


_COMMANDS = {"ais": cmd_ais, "tak": cmd_tak, "serve": cmd_serve, "worker": cmd_worker, "token": cmd_token, "areas": cmd_areas,
             "resources": cmd_resources, "roads": cmd_roads, "suggest": cmd_suggest, "demo": cmd_demo,
             "db": cmd_db, "job": cmd_job, "field": cmd_field}
