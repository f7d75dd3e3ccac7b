"""Region rules: name resolution, the working-day calendar and SLA rules, and region loading errors."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from regions import RegionError, load_region
from regions.normalise import Resolver
from regions.sla import SlaBook, WorkingCalendar

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def resolver():
    return Resolver(load_region("surabaya"))


@pytest.mark.parametrize("raw, code", [
    ("GENTENG", "genteng"), ("Kec. Genteng", "genteng"), ("KECAMATAN  genteng ", "genteng"),
    ("KEC.KARANGPILANG", "karang_pilang"), ("Karang Pilang", "karang_pilang"),
    ("PABEAN CANTIKAN", "pabean_cantian"), ("Sambi Kerep", "sambikerep"), ("Suko Manunggal", "sukomanunggal"),
    ("Gununganyar", "gunung_anyar"), ("Tenggilis", "tenggilis_mejoyo"), ("TAMBAKSARRI", "tambaksari"),
    ("WONOKROMMO", "wonokromo"),
])
def test_district_spellings_resolve(resolver, raw, code):
    assert resolver.district(raw) == code


@pytest.mark.parametrize("raw", ["BALEENDAH", "Majalengka", "", None, "xx", "KEC."])
def test_unknown_districts_stay_unresolved(resolver, raw):
    assert resolver.district(raw) is None


def test_district_found_in_free_text(resolver):
    assert resolver.district_from_text("jalan rusak di kelurahan ketabang kecamatan genteng, mohon") == "genteng"
    assert resolver.district_from_text("lampu mati di Kec. Tambak Sari dekat pasar") == "tambaksari"
    assert resolver.district_from_text("tidak ada lokasi") is None


def test_agency_aliases_resolve(resolver):
    assert resolver.agency("Dinas Perhubungan") == "DISHUB"
    assert resolver.agency("DINAS PERHUBUNGAN KOTA SURABAYA") == "DISHUB"
    assert resolver.agency("Kecamatan Genteng") == "KEC_GENTENG"
    assert resolver.agency("Dinas Kebudayaan Planet Mars") is None


def test_category_exact_before_keyword(resolver):
    category, agency = resolver.category("call112", "KEBAKARAN")
    assert category == "fire" and agency == "DAMKAR"
    assert resolver.category("wargaku", "zzz tidak dikenal") == (None, None)


def test_working_days_skip_weekends_and_holidays():
    calendar = WorkingCalendar(WIB, "ID")
    friday = datetime(2025, 3, 28, 10, 0, tzinfo=WIB)  # Nyepi is Sat 29 Mar, Idul Fitri Mon 31 Mar + Tue 1 Apr
    due = calendar.add_working_days(friday, 1)
    assert due == datetime(2025, 4, 2, 10, 0, tzinfo=WIB).astimezone(timezone.utc)
    assert calendar.add_working_days(datetime(2026, 11, 20, 9, 0, tzinfo=WIB), 5) == \
        datetime(2026, 11, 27, 9, 0, tzinfo=WIB).astimezone(timezone.utc)
    assert calendar.working_days_between(friday, datetime(2025, 4, 2, 12, 0, tzinfo=WIB)) == 1
    assert not calendar.is_working_day(datetime(2025, 12, 25).date())


def test_sla_rules_first_match_wins():
    book = SlaBook(load_region("surabaya"))
    received = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 09:00 WIB
    response, resolve = book.due_times(received, "wargaku", "complaint")
    assert (response - received).total_seconds() == 24 * 3600
    emergency_response, _ = book.due_times(received, "call112", "emergency_call")
    assert (emergency_response - received).total_seconds() <= 15 * 60
    assert book.due_times(received, "call112", "non_emergency_call") == (None, None)
    _, lapor_resolve = book.due_times(received, "lapor", "complaint", "Pengaduan Berkadar Pengawasan")
    assert lapor_resolve.astimezone(WIB).date() > datetime(2027, 2, 1).date()  # 60 working days


def test_region_errors_are_clear(tmp_path):
    with pytest.raises(RegionError, match="unknown region 'atlantis'"):
        load_region("atlantis")
    (tmp_path / "region.toml").write_text('timezone = "Asia/Jakarta"\n')
    with pytest.raises(RegionError, match="districts.csv"):
        load_region(str(tmp_path))
    (tmp_path / "districts.csv").write_text("code,name\nx,\n")
    with pytest.raises(RegionError, match="empty value"):
        load_region(str(tmp_path))
