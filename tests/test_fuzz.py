"""Property-based fuzzing (hypothesis) of every parser and of the district / date / status normalisation.

The property: no input ever raises out of the pipeline. A connector's `parse` returns a valid ComplaintIn or raises
RecordError / ValidationError, whose message is the quarantine reason a person reads; anything else (a TypeError,
an OverflowError, a KeyError) is a bug. Records start from real rows read from the sample generator's files (so
that hypothesis explores deep into each parser) and get hostile values put in: wrong types, nested objects,
impossible dates, NaN and infinities, control characters, huge numbers and very long text. The pipeline test
imports such records from real files into SQLite and PostgreSQL: every record ends stored or quarantined.

The example counts are small (the `sigap` profile) so that this file runs in well under 30 s; set
HYPOTHESIS_PROFILE=sigap-long for a longer hunt.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from connectors import RecordError, connector_for
from connectors.files import header_key
from connectors.generic import GenericConnector, moment, truthy
from connectors.pipeline import describe_error, run_import
from connectors.values import (combine_local, flags, parse_date, parse_datetime, parse_duration, parse_float,
                               parse_time, text)
from models import Complaint, ComplaintIn, QuarantinedRecord
from regions import load_region
from regions.normalise import agency_key, name_key, place_key

settings.register_profile("sigap", max_examples=30, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.filter_too_much])
settings.register_profile("sigap-long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sigap"))

REGION = load_region("surabaya")
WIB = ZoneInfo("Asia/Jakarta")
CLEAR_ERRORS = (RecordError, ValidationError)  # what a parser may raise: a reason a person can act on

# --- hostile values -------------------------------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\t\n\r", "NaN", "nan", "inf", "-inf", "1e309", "-1e309", "9" * 400, "0", "-1",
    "2025-02-30", "2025-13-01", "0000-00-00 00:00:00", "2025-11-01T10:00:00+25:00", "2025-11-01 24:00",
    "2025-11-01 99:99:99", "31 Foo 2023", "31 Februari 2024", "1 Januari 1899", "01/01/0001", "32/13/2024",
    "1900-01-01", "9999-12-31 23:59:59", "2099-01-01 00:00", "12/31/2024 10:00", "1e10", "٢٠٢٥-١١-٠١",
    "２０２５-１１-０１ １０:００", "0 Hari : 99999999999999999999 Jam", "999999999:00:00", "KEC.", "Kec. Kec. Kec.",
    "kecamatan " * 50, "Kec. Genteng", "Genteng", "GENTENG!!", "Dinas", "<script>alert(1)</script>",
    "'; DROP TABLE complaint; --", "Ditutup oleh Sistem", "Selesai", "selesai", "SELESAI ", "emergency",
    "Anonim|Rahasia", "ya", "Laporan" * 20_000, "🚑" * 300, "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"), "-7.25,112.75", "1000,1000", "nan,nan", ",", "-7,25",
])
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=60), st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
NUMBER = st.one_of(st.integers(min_value=-(10 ** 30), max_value=10 ** 30), st.floats(allow_nan=True,
                                                                                      allow_infinity=True))
MOMENT = st.one_of(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
                   st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                timezones=st.sampled_from([timezone.utc, WIB, timezone(timedelta(hours=-12))])),
                   st.dates(), st.times())
SCALAR = st.one_of(st.none(), st.booleans(), TEXT, NUMBER, MOMENT, st.timedeltas())
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=3), st.dictionaries(st.text(max_size=5), SCALAR, max_size=3))


# channel -> how the fuzzed records ended ("valid", or the start of the quarantine reason), for the README table
OUTCOMES: dict[str, Counter] = defaultdict(Counter)
IMPORTED: dict[str, Counter] = defaultdict(Counter)  # hostile files imported, per channel and database


@pytest.fixture(scope="module", autouse=True)
def outcome_rows():
    yield
    for channel, seen in sorted(OUTCOMES.items()):
        valid = seen.pop("valid", 0)
        reasons = "; ".join(f"{reason} ×{n}" for reason, n in seen.most_common(3))
        print(f"\n| fuzzed {channel} records | {valid + sum(seen.values())} | {valid} | {sum(seen.values())} | "
              f"{reasons} |", end="")
    for name, seen in sorted(IMPORTED.items()):
        print(f"\n| {name} | {seen['read']} | {seen['stored']} | {seen['quarantined']} | run succeeded, "
              f"counts reconcile |", end="")


def _outcome(connector, raw) -> ComplaintIn | Exception:
    """What the pipeline's parse step makes of `raw`: a valid record, or the quarantine reason's exception."""
    try:
        record = connector.parse(raw)
    except CLEAR_ERRORS as exc:
        assert str(exc).strip(), "a quarantine reason must say something"
        OUTCOMES[connector.name][re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", describe_error(exc))[:60]] += 1
        return exc
    OUTCOMES[connector.name]["valid"] += 1
    assert isinstance(record, ComplaintIn)
    assert record.source_id.strip() and record.channel == connector.name
    assert record.received_at.tzinfo is not None
    return record


# --- real rows as starting points -------------------------------------------------------------------------------

TABULAR = ("lapor", "call112", "social")
JSON_API = ("wargaku", "mediacenter", "jss", "open311")


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Each channel's connector and a few real raw records, read from the sample generator's files."""
    from sample_data import generate

    out = tmp_path_factory.mktemp("fuzz_sample")
    generate(out, date(2025, 11, 14), seed=7, scale=0.05, months=1)
    found = {}
    for channel in (*TABULAR, *JSON_API):
        path = sorted(p for p in (out / channel).iterdir() if p.is_file())[0]
        connector = connector_for(channel, REGION, source=path)
        rows = [dict(r) for _, r in zip(range(5), connector.fetch(None))]
        found[channel] = (connector, rows)
    generic = GenericConnector(channel="kantorku", region=REGION, settings={"mapping": "kantorku"})
    found["kantorku"] = (generic, [_kantorku_row(n) for n in range(3)])
    return found


def _kantorku_row(n: int) -> dict:
    return {header_key(k): v for k, v in {
        "No Agenda": f"AG-{n}", "Tanggal Diterima": "2025-11-03 09:15", "Jenis": "Pengaduan",
        "Perihal": "Jalan berlubang", "Isi Ringkas": "Jalan di Kec. Genteng berlubang", "Kategori": "Jalan rusak",
        "Status": "Diproses", "Kecamatan": "Genteng", "Latitude": "-7.26", "Longitude": "112.74",
        "Tujuan Disposisi": "DSDABM", "Tanggal Tanggapan": "2025-11-04 08:00", "Nama Pengirim": "Budi",
    }.items()}


def test_the_real_starting_rows_parse(samples):
    """The fuzzers start from valid records: otherwise they would only ever test the first check."""
    for channel, (connector, rows) in samples.items():
        assert rows, channel
        outcomes = [_outcome(connector, row) for row in rows]
        assert sum(isinstance(o, ComplaintIn) for o in outcomes) >= len(rows) - 1, (channel, outcomes)


def _keys(connector, raw: dict) -> list[str]:
    """The keys (tabular) or dotted paths (JSON) the parser reads, plus the record's own keys."""
    mapping = connector.mapping
    if "fields" in mapping:  # a JSON API mapping
        paths = [p for spec in (*mapping["fields"].values(), *mapping.get("reporter", {}).values())
                 for p in ([spec] if isinstance(spec, str) else spec) if p]
    else:
        paths = [name for names in mapping["columns"].values() for name in names[:2]]
    return sorted(set(paths) | set(raw))


def _put(record: dict, path: str, value, nested: bool) -> None:
    """Set a (dotted, for JSON) path, making or replacing the objects on the way."""
    parts = path.split(".") if nested else [path]
    for part in parts[:-1]:
        if not isinstance(record.get(part), dict):
            record[part] = {}
        record = record[part]
    record[parts[-1]] = value


@st.composite
def mutated(draw, channel_rows):
    connector, rows = channel_rows
    raw = json.loads(json.dumps(draw(st.sampled_from(rows)), default=str))
    nested = "fields" in connector.mapping
    keys = _keys(connector, raw)
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=6, unique=True)):
        if draw(st.integers(0, 9)) == 0:
            raw.pop(key.split(".")[0] if nested else key, None)
        else:
            value = draw(VALUE)  # a JSON source sends only what JSON can say (NaN and Infinity included)
            _put(raw, key, json.loads(json.dumps(value, default=str)) if nested else value, nested)
    return raw


@pytest.mark.parametrize("channel", [*TABULAR, *JSON_API, "kantorku"])
def test_no_record_makes_a_parser_raise_anything_but_a_clear_reason(channel, samples):
    pair = samples[channel]

    @given(raw=mutated(pair))
    def check(raw):
        _outcome(pair[0], raw)

    check()


@pytest.mark.parametrize("channel", [*JSON_API, "kantorku"])
def test_arbitrary_json_items_are_refused_with_a_reason(channel, samples):
    connector = samples[channel][0]
    items = st.one_of(VALUE, st.dictionaries(st.text(max_size=12), VALUE, max_size=8),
                      st.recursive(SCALAR, lambda inner: st.dictionaries(st.text(max_size=4), inner, max_size=3),
                                   max_leaves=8))

    @given(raw=items)
    def check(raw):
        if channel == "kantorku" and not isinstance(raw, dict):
            raw = {"value": raw}  # file records are always objects
        _outcome(connector, raw)

    check()


# --- the normalisation functions ------------------------------------------------------------------------------

ANY_TEXT = st.one_of(TEXT, st.text(), st.binary(max_size=20).map(lambda b: b.decode("latin-1")))
ANY_VALUE = st.one_of(VALUE, ANY_TEXT)


@given(ANY_VALUE)
@example("01/01/0001")  # midnight of the calendar's first day in WIB is before it in UTC: used to overflow
@example("9999-12-31T23:00:00-05:00")
@example("0 Hari : 99999999999999999999 Jam")  # more days than a timedelta holds: used to overflow
@example(float("inf"))
@example([1.5])  # float() of a list: used to be a TypeError
@example(datetime(2025, 1, 1))
def test_date_and_time_parsers_give_a_value_or_a_record_error(value):
    for parse in (lambda v: parse_date(v), lambda v: parse_time(v), lambda v: parse_datetime(v, WIB),
                  lambda v: moment(v, WIB, "t"), lambda v: parse_duration(v), lambda v: combine_local(v, v, WIB)):
        try:
            result = parse(value)
        except RecordError as exc:
            assert str(exc)
            continue
        if isinstance(result, datetime):
            assert result.tzinfo is not None or parse is not None
    for convert in (parse_float, text, flags, truthy):
        convert(value)  # never raises
    cleaned = text(value)
    assert cleaned is None or (cleaned == text(cleaned) and "\x00" not in cleaned)


@given(MOMENT.filter(lambda m: isinstance(m, datetime)))
def test_a_moment_written_out_reads_back_as_the_same_moment(value):
    aware = value if value.tzinfo else value.replace(tzinfo=WIB)
    for written in (aware.isoformat(), aware.isoformat(" "), aware.astimezone(timezone.utc).isoformat()
                    .replace("+00:00", "Z")):
        try:
            parsed = parse_datetime(written, WIB)
        except RecordError:  # a moment so close to year 1 or 9999 that UTC falls outside the calendar
            assert aware.year in (1, 9999)
            continue
        assert parsed == aware
        assert parse_datetime(parsed, WIB) == parsed  # idempotent on its own output


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["{d:%d}/{d:%m}/{d:%Y}", "{d:%Y}-{d:%m}-{d:%d}",
                                                                "{d.day} {m} {d:%Y}", "{d:%d}-{d:%m}-{d:%Y}"]))
def test_dates_as_indonesian_exports_write_them_read_back(day, pattern):
    months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
              "November", "Desember"]
    written = pattern.format(d=day, m=months[day.month - 1])
    assert parse_date(written) == day
    assert parse_date(parse_date(written)) == day


@given(ANY_VALUE)
def test_name_keys_never_raise_and_are_idempotent(value):
    for key in (name_key, place_key, agency_key):
        once = key(value)
        assert key(once) == once
        assert once == once.strip()


@pytest.fixture(scope="module")
def resolver():
    from regions.normalise import Resolver

    return Resolver(REGION)


@given(ANY_VALUE)
def test_district_agency_and_category_lookups_return_a_known_code_or_none(resolver, value):
    districts = {d.code for d in REGION.districts}
    agencies = {a.code for a in REGION.agencies}
    code = resolver.district(value)
    assert code is None or code in districts
    if code is not None:
        assert resolver.district(code) == code  # a resolved code resolves to itself
    assert resolver.district_from_text(value if isinstance(value, str) else None) in districts | {None}
    subdistrict, district = resolver.subdistrict(value, None)
    assert district is None or district in districts
    assert resolver.agency(value) in agencies | {None}
    category, agency = resolver.category("lapor", value)
    assert category is None or category in {c.code for c in REGION.categories}


@given(st.sampled_from([d for d in REGION.districts]),
       st.sampled_from(["{}", "KEC. {}", "Kecamatan {}", "  {}  ", "kec.{}"]), st.booleans())
def test_every_district_is_found_however_it_is_spelled(resolver, district, pattern, upper):
    name = pattern.format(district.name)
    assert resolver.district(name.upper() if upper else name.lower()) == district.code


@given(st.sampled_from(sorted(REGION.channels)), ANY_TEXT)
def test_status_text_maps_to_a_unified_status_or_a_reason(samples, channel, value):
    if channel not in samples:
        return
    connector = samples[channel][0]
    if "fields" in connector.mapping:
        raw = {**samples[channel][1][0]}
        _put(raw, connector.spec("status")[0], value, nested=True)
        result = _outcome(connector, raw)
        if isinstance(result, RecordError) and "status" in str(result):
            assert "unknown status" in str(result) or "is empty" in str(result)
        return
    try:
        status = connector.status(value) if channel != "call112" else connector.call_kind(value)
    except RecordError as exc:
        assert "status" in str(exc) or "call type" in str(exc) or "empty" in str(exc)
        return
    assert status


# --- through the pipeline, into the database ---------------------------------------------------------------------


def _import(engine, channel, path, **kwargs):
    connector = connector_for(channel, REGION, source=path, **kwargs)
    return run_import(connector, engine, source=path.name)


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(Complaint)).scalar_one(),
                conn.execute(select(func.count()).select_from(QuarantinedRecord)).scalar_one())


@settings(max_examples=6)
@given(data=st.data())
def test_hostile_records_in_real_files_end_stored_or_quarantined(samples, engine, tmp_path_factory, data):
    """A Wargaku page file and a Call Center 112 CSV full of hostile values import on SQLite and PostgreSQL:
    the run succeeds, every record read is inserted, updated, unchanged or quarantined (with a reason and its raw
    content), and the database holds exactly what the summary says."""
    folder = tmp_path_factory.mktemp("hostile")
    wargaku = [data.draw(mutated(samples["wargaku"])) for _ in range(6)]
    page = folder / "page.json"
    page.write_text(json.dumps({"data": wargaku}, default=str), encoding="utf-8")
    calls = [data.draw(mutated(samples["call112"])) for _ in range(6)]
    log = folder / "call112.csv"
    columns = sorted({k for row in calls for k in row if k != "_row"})
    with log.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in calls)
    assume(any(c in columns for c in ("uid",)) and "waktu_lapor" in columns and "tipe_laporan" in columns)

    for channel, path, records in (("wargaku", page, wargaku), ("call112", log, calls)):
        stored, quarantined = _counts(engine)
        summary = _import(engine, channel, path)
        assert summary.state == "succeeded", summary.error
        assert summary.reconciles and summary.read == len(records)
        now_stored, now_quarantined = _counts(engine)
        assert now_stored - stored == summary.inserted
        assert now_quarantined - quarantined == summary.quarantined
        IMPORTED[f"hostile {channel} file ({engine.dialect.name})"].update(
            read=summary.read, stored=summary.read - summary.quarantined, quarantined=summary.quarantined)
    with engine.connect() as conn:
        reasons = conn.execute(select(QuarantinedRecord.reason, QuarantinedRecord.raw)).all()
    assert all(reason.strip() and raw for reason, raw in reasons)


def _cell(value) -> str:
    """A value as a CSV cell; control characters other than NUL stay (csv refuses NUL, so does every reader)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return str(value).replace("\x00", "") if value is not None else ""


def test_control_characters_in_every_text_field_are_dropped_not_fatal(samples, engine, tmp_path):
    """PostgreSQL refuses a NUL byte in text: one such character used to fail the whole batch (and every later
    poll of the channel). Now it is dropped, on both databases, in ids, texts, statuses and reporter data."""
    connector, rows = samples["wargaku"]
    fields = connector.mapping["fields"]
    paths = [fields[f] for f in ("source_id", "title", "body", "category", "status", "district", "subdistrict")]
    items = []
    for row in rows:
        item = json.loads(json.dumps(row, default=str))
        for path in [*paths, "pelapor.nama"]:
            value = item
            for part in path.split(".")[:-1]:
                value = value[part]
            last = path.split(".")[-1]
            if isinstance(value.get(last), str):
                value[last] = "\x00" + value[last][:3] + "\x00\x07" + value[last][3:] + "\x1b"
        items.append(item)
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"data": items}), encoding="utf-8")

    summary = _import(engine, "wargaku", page)

    assert summary.state == "succeeded", summary.error
    assert summary.inserted == len(rows) and summary.quarantined == 0
    with engine.connect() as conn:
        stored = conn.execute(select(Complaint.source_id, Complaint.title, Complaint.body, Complaint.status_raw)).all()
    assert sorted(r.source_id for r in stored) == sorted(r["id"] for r in rows)
    assert all("\x00" not in (value or "") and "\x1b" not in (value or "") for row in stored for value in row)
