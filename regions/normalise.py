"""Resolve the names sources use (districts, sub-districts, agencies, categories) to the region's codes.

Names in the wild differ by case, spacing, "KEC." prefixes, known aliases and small misspellings.
What cannot be resolved returns None: the caller keeps the raw text and counts it as unmapped.
"""
from __future__ import annotations

import difflib
import re

from regions import Region

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_DISTRICT_PREFIX = re.compile(r"^(KECAMATAN|KEC|KELURAHAN|KEL|DESA|DS)\b\.?\s*")
_AGENCY_NOISE = re.compile(r"\b(KAB|KABUPATEN|KOTA|PEMKOT|PEMKAB)\b")
# "... kecamatan pameungpeuk ..." or "kec. baleendah" inside free text
_DISTRICT_IN_TEXT = re.compile(r"\bkec(?:amatan\b|\.|\b)\s*([a-z]+(?: [a-z]+){0,2})", re.IGNORECASE)


def name_key(text: str | None) -> str:
    """Upper case, punctuation to spaces, collapsed: 'Kec. Pabean  cantian' -> 'KEC PABEAN CANTIAN'."""
    return " ".join(_NON_ALNUM.sub(" ", str(text or "").upper()).split())


def place_key(text: str | None) -> str:
    """Compact key for place names: no prefix, no spaces ('KEC. Karang Pilang' -> 'KARANGPILANG')."""
    key = name_key(text)
    previous = None
    while key != previous:  # "KEC. KECAMATAN X" happens
        previous, key = key, _DISTRICT_PREFIX.sub("", key)
    return key.replace(" ", "")


def agency_key(text: str | None) -> str:
    return name_key(text).replace(" ", "")


class _Index:
    """Exact lookup on normalised keys, then a close-match fallback, memoised per raw value."""

    def __init__(self, keyfunc, cutoff: float):
        self._keyfunc = keyfunc
        self._cutoff = cutoff
        self._exact: dict[str, str] = {}
        self._memo: dict[str, str | None] = {}

    def add(self, value: str, *names: str | None) -> None:
        for name in names:
            key = self._keyfunc(name)
            if key:
                self._exact.setdefault(key, value)

    def lookup(self, raw) -> str | None:
        if raw is None:
            return None
        raw = str(raw)
        if raw in self._memo:
            return self._memo[raw]
        key = self._keyfunc(raw)
        found = self._exact.get(key)
        if found is None and len(key) >= 4:
            close = difflib.get_close_matches(key, self._exact.keys(), n=1, cutoff=self._cutoff)
            found = self._exact[close[0]] if close else None
        if len(self._memo) < 100_000:
            self._memo[raw] = found
        return found


class Resolver:
    """Turns a source's place, agency and category names into the region's codes."""

    def __init__(self, region: Region):
        self.region = region
        self._districts = _Index(place_key, cutoff=0.85)
        for d in region.districts:
            self._districts.add(d.code, d.code, d.name, *d.aliases)
        # Village names repeat across districts (three Neglasari in Kab. Bandung): keep every candidate.
        self._subdistricts: dict[str, list[tuple[str, str]]] = {}
        for s in region.subdistricts:
            for name in (s.name, *s.aliases):
                candidates = self._subdistricts.setdefault(place_key(name), [])
                if (s.name, s.district_code) not in candidates:
                    candidates.append((s.name, s.district_code))
        self._agencies = _Index(agency_key, cutoff=0.9)
        for a in region.agencies:
            self._agencies.add(a.code, a.code, a.name, a.short_name, *a.aliases)
        # Agency names often carry the region ("Dinas Sosial Kabupaten Bandung"); also index them without it.
        self._agencies_loose = _Index(lambda t: _AGENCY_NOISE.sub(" ", name_key(t)).replace(" ", ""), cutoff=0.9)
        for a in region.agencies:
            self._agencies_loose.add(a.code, a.name, *a.aliases)
        self._default_agency = {c.code: c.default_agency for c in region.categories}
        self._category_exact: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._category_keywords: list[tuple[str, str, str, str | None]] = []
        for m in region.category_map:
            key = name_key(m.source_category)
            self._category_exact.setdefault((m.channel, key), (m.category, m.agency))
            self._category_keywords.append((m.channel, key, m.category, m.agency))
        # Longest keywords first, so "POHON TUMBANG" wins over "POHON".
        self._category_keywords.sort(key=lambda item: -len(item[1]))
        self._category_memo: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def district(self, raw) -> str | None:
        return self._districts.lookup(raw)

    def district_from_text(self, text: str | None) -> str | None:
        """The first 'kecamatan X' mention in free text that names one of the region's districts."""
        for match in _DISTRICT_IN_TEXT.finditer(text or ""):
            words = match.group(1).split()
            for n in range(min(3, len(words)), 0, -1):  # "pameungpeuk kabupaten" -> try "pameungpeuk"
                code = self._districts.lookup(" ".join(words[:n]))
                if code:
                    return code
        return None

    def subdistrict(self, raw, district_code: str | None = None) -> tuple[str | None, str | None]:
        """(canonical sub-district name, its district code), or (None, None).

        With a known district, only a village of that district matches; without one, only an unambiguous name.
        """
        candidates = self._subdistricts.get(place_key(raw), []) if raw else []
        if district_code is not None:
            candidates = [c for c in candidates if c[1] == district_code]
        return candidates[0] if len(candidates) == 1 else (None, None)

    def agency(self, raw) -> str | None:
        if raw is None or not str(raw).strip():
            return None
        return self._agencies.lookup(raw) or self._agencies_loose.lookup(raw)

    def category(self, channel: str, raw) -> tuple[str | None, str | None]:
        """(unified category, agency code) for a channel's own category text; agency falls back to the default."""
        key = name_key(raw)
        if not key:
            return None, None
        memo_key = (channel, key)
        if memo_key not in self._category_memo:
            category, agency = self._match_category(channel, key)
            if category and not agency:
                agency = self._default_agency.get(category)
            self._category_memo[memo_key] = (category, agency)
        return self._category_memo[memo_key]

    def _match_category(self, channel: str, key: str) -> tuple[str | None, str | None]:
        for scope in (channel, "*"):
            if (scope, key) in self._category_exact:
                return self._category_exact[(scope, key)]
        padded = f" {key} "
        for scope in (channel, "*"):
            for map_channel, keyword, category, agency in self._category_keywords:
                if map_channel == scope and f" {keyword} " in padded:
                    return category, agency
        return None, None
