"""Personal data is masked in complaint texts, and complaint texts are inert as markup.

Every example here is made up. The real LAPOR export is only read (never copied into the repository):
after masking, no NIK, phone number or e-mail address may remain in any of its texts.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from metrics.privacy import (ADDRESS, EMAIL, MARKERS, NAME, NIK, NUMBER, PHONE, markdown_literal, mask_pii,
                             neutralise_markup, safe_markdown, safe_text)
from tests.conftest import REAL_LAPOR

# Independent detectors (deliberately not the module's own patterns)
NIK_RUN = re.compile(r"\d{16}")
NIK_GROUPED = re.compile(r"(?<!\d)\d{4}[ .\-]\d{4}[ .\-]\d{4}[ .\-]\d{4}(?!\d)")
PHONE_ANY = re.compile(r"(?<![\d])(?:\+\s?62|62|0)[\s.\-]*8(?:[\s.\-]*\d){8,11}(?!\d)")
EMAIL_ANY = re.compile(r"[\w.+\-]+@[\w\-]+\.[\w.\-]+")


def leaks(text: str) -> list[str]:
    found = []
    for pattern in (NIK_RUN, NIK_GROUPED, PHONE_ANY, EMAIL_ANY):
        found += pattern.findall(text)
    return found


@pytest.mark.parametrize("text, secret, marker", [
    ("NIK saya 3578014509870002 mohon dicek", "3578014509870002", NIK),
    ("nik: 3578 0145 0987 0002.", "3578 0145 0987 0002", NIK),
    ("KTP 35.78.01.450987.0002 hilang", "35.78.01.450987.0002", NIK),
    ("data3578014509870002tidak valid", "3578014509870002", NIK),
    ("No KK : 3578010101010001", "3578010101010001", NIK),
    ("hubungi 081234567890 ya", "081234567890", PHONE),
    ("WA 0812-3456-7890 (siang)", "0812-3456-7890", PHONE),
    ("telp 0812 3456 789", "0812 3456 789", PHONE),
    ("nomor saya 0857.1234.5678", "0857.1234.5678", PHONE),
    ("kontak +6281234567890 atau", "+6281234567890", PHONE),
    ("kontak +62 812-3456-7890 atau", "+62 812-3456-7890", PHONE),
    ("kontak +62 (0) 812 3456 7890", "812 3456 7890", PHONE),
    ("sms ke 6285712345678", "6285712345678", PHONE),
    ("[12/3 10.15] +62 813-1111-2222: pesan", "813-1111-2222", PHONE),
    ("telp kantor (031) 5312144", "5312144", PHONE),
    ("https://wa.me/6281234567890 chat", "6281234567890", PHONE),
    ("kirim ke budi.santoso77@gmail.com ya", "budi.santoso77@gmail.com", EMAIL),
    ("email: Dewi_L@yahoo.co.id.", "Dewi_L@yahoo.co.id", EMAIL),
    ("dewi.lestari [at] gmail [dot] com", "dewi.lestari", EMAIL),
    ("Nama : Budi Santoso\nAlamat : x", "Budi Santoso", NAME),
    ("Nama: Budi SantosoNIK: 3578014509870002", "Budi Santoso", NAME),
    ("NAMA LENGKAP : SITI AMINAH  NIK : 1", "SITI AMINAH", NAME),
    ("Nama Wajib Pajak : Rina Wulandari", "Rina Wulandari", NAME),
    ("Perkenalkan, nama saya Agus Prasetyo dari Genteng", "Agus Prasetyo", NAME),
    ("nama saya agus prasetyo warga tegalsari", "agus prasetyo", NAME),
    ("bansos atas nama Sri Wahyuni belum cair", "Sri Wahyuni", NAME),
    ("Saya Dewi Lestari, NIK 3578014509870002", "Dewi Lestari", NAME),
    ("pegawai yang bernama joko susilo ini", "joko susilo", NAME),
    ("Korban: Sari Wulan", "Sari Wulan", NAME),
    ("Hormat saya, Hendra Wijaya", "Hendra Wijaya", NAME),
    ("dilaporkan ke Pak Slamet Riyadi", "Slamet Riyadi", NAME),
    ("rumah di Jl. Melati No. 12 banjir", "Melati No. 12", ADDRESS),
    ("Jalan Kenanga Raya no 5/7", "Kenanga Raya no 5/7", ADDRESS),
    ("di Gg. Buntu 3 dekat masjid", "Buntu 3", ADDRESS),
    ("Kp. Melati RT 02 RW 05 Desa Sukamaju", "RT 02 RW 05", ADDRESS),
    ("Kp Melati Rt.002/Rw.005", "Rt.002/Rw.005", ADDRESS),
    ("warga RT/RW 003/005", "003/005", ADDRESS),
    ("rt02 rw 03 kelurahan", "rt02 rw 03", ADDRESS),
    ("Alamat : Perum Taman Kenari Blok C-7, Wiyung", "Taman Kenari Blok C-7", ADDRESS),
    ("alamat rumah saya di Jalan Mawar 9. Mohon", "Jalan Mawar 9", ADDRESS),
    ("tinggal di Komplek Puri Kenanga B2", "Puri Kenanga B2", ADDRESS),
    ("lokasi https://maps.app.goo.gl/AbCdEf12345 depan", "goo.gl/AbCdEf12345", ADDRESS),
    ("https://www.google.com/maps/place/X/@-7.2575,112.7521,17z", "-7.2575,112.7521", ADDRESS),
    ("Lokasi: https://maps.google.com/?q=-7.25123,112.75123 .", "-7.25123,112.75123", ADDRESS),
    ("titik -7.265432, 112.734567 depan", "-7.265432, 112.734567", ADDRESS),
    # shapes seen in the real LAPOR export (values made up)
    ("nama saya adalah Budi Santoso, warga", "Budi Santoso", NAME),
    ("Nama saya adalah budi santoso warga", "budi santoso", NAME),
    ("atas nama Asep sunarya, bantuan pkh", "sunarya", NAME),                 # a lower-case surname
    ("yang bernama aa Suherman tapi meminta", "Suherman", NAME),
    ("bernama Nyonya Ijah alias EMEH sejak", "EMEH", NAME),
    ("berita yang bernama nyonya ijah alias emeh sejak", "emeh", NAME),
    ("Saya dewi lestari yang beralamat di Kp Cibodas", "dewi lestari", NAME),
    ("NOP : 32.73.010.004.012-0345.0Nama Wajib Pajak : Rina", "Rina", NAME),   # a label glued on after a digit
    ("0nama wajib pajak : rina wulanalamat : kp cibodas", "rina wulan", NAME),
    ("NOP : 32.73.010.004.012-0345.0", "004.012-0345", NUMBER),                # land-tax object number
    ("NISN.  : 0081234567NPSN", "0081234567", NUMBER),
    ("ID Pelanggan PLN 532110987654", "532110987654", NUMBER),
    ("No. Rekening BRI 0123-01-000123-50-1", "000123", NUMBER),
    ("Jl.melati No.17 cibodas", "melati No.17", ADDRESS),
    ("JLn. Kenanga No. 21, Desa Sukamaju", "Kenanga No. 21", ADDRESS),
    ("sentosaJl. Raya Cibiru no. 118 Sukamanah", "Cibiru no. 118", ADDRESS),
    ("komplek taman melati asri 2 blok F no.8, desa", "blok F no.8", ADDRESS),
    ("warga griya harmoni regency no 6 keberatan", "regency no 6", ADDRESS),
    ("di desa sukamaju no 77.Selokan", "sukamaju no 77", ADDRESS),
    ("tpu rw 04 gg kenari disamping masjid", "kenari", ADDRESS),
])
def test_personal_data_is_masked(text, secret, marker):
    masked = mask_pii(text)
    assert secret not in masked, masked
    assert marker in masked, masked


@pytest.mark.parametrize("text", [
    "Laporan 4820173 sudah diteruskan",             # 7-digit LAPOR tracking ID
    "Tracking ID: 5123456, 5123457",
    "tanggal 29-05-2023 pukul 04:05:34",              # dates and times
    "sejak 2023-05-29 dan 18/01/2024",
    "buka pukul 08.00-16.00 WIB",
    "biaya Rp 1.500.000 per bulan",                   # amounts
    "tagihan Rp62.850.000.000 dan IDR 8.123.456.789",
    "anggaran 1.234.567.890 rupiah",
    "sesuai Perda No. 12 Tahun 2020",                  # regulation numbers
    "UU No. 25 Tahun 2009 tentang Pelayanan Publik",
    "Jalan rusak di Jl. Raya Darmo sudah 3 bulan",     # a road is where the problem is
    "Jalan Rusak Parah Di Desa Sukamaju",
    "Saya Mohon Bantuan Perbaikan Lampu PJU",
    "Ibu Kota Nusantara",
    "Kartu BPJS Kesehatan tidak aktif, lapor ke BPBD Kota",  # agency acronyms are not "Bp."/"Bu" + a name
    "di ujung gang dekat pos kamling",
    "kode pos 60271, luas 335 km2, 2.88 juta jiwa",
    "Nama Instansi : Dinas Sumber Daya Air",
    "data: KTP hilang saat banjir",
    "Peraturan Desa Nomor 5 Tahun 2019",                # a regulation, not a house number
    "Perdes No. 3 Thn 2020 tentang dana desa Rp 1.500.000.000",
    "Lampu PJU di Kp. Sukamulya mati sejak 2021",      # a hamlet is where the problem is
    "jalan rusak di Jalan Raya Cileunyi km 5, kampung Cikoneng Desa Sukasari",
    "aplikasi versi 2.10.3 error sejak 05-01-2024 pukul 10.00",
    "nomor antrian 12345678, kode pos 40375",
    "Saya adalah warga desa, Saya adalah Mahasiswa Unpad",
    "Kepada Bapak Bupati Bandung",
    "",
])
def test_ordinary_text_is_left_alone(text):
    assert mask_pii(text) == text


def test_identity_block_as_citizens_paste_it():
    block = ("Nama : Rudi Hartono\nNIK : 3578011203850001\nAlamat : Jl. Kapas Madya Gg. 3 RT 05 RW 02\n"
             "No HP : +6281234567890\nMohon jalan depan rumah diperbaiki.")
    masked = mask_pii(block)
    assert masked == ("Nama : [nama]\nNIK : [NIK]\nAlamat : [alamat]\nNo HP : [telepon]\n"
                      "Mohon jalan depan rumah diperbaiki.")
    glued = block.replace("\n", "")
    assert leaks(mask_pii(glued)) == []
    assert "Rudi" not in mask_pii(glued) and "Kapas Madya" not in mask_pii(glued)


def test_none_and_masked_text_are_stable():
    assert mask_pii(None) == ""
    once = mask_pii("Saya Dewi Lestari, NIK 3578014509870002, alamat di Jl. Melati No. 12. HP 081234567890")
    assert mask_pii(once) == once
    assert all(marker.startswith("[") for marker in MARKERS)


def test_markup_is_neutralised_but_readable():
    hostile = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
               "[klik](javascript:alert(1)) ![x](https://evil.example/x.png) <a href='javascript:alert(1)'>a</a>"
               "\u202egnp.exe <!-- hidden -->")
    shown = safe_text(hostile)
    assert "<" not in shown and ">" not in shown
    assert "](" not in shown
    assert not re.search(r"javascript\s*:", shown, re.IGNORECASE)
    assert "\u202e" not in shown
    assert "‹script›window.__pwned=1‹/script›" in shown  # still readable as what was typed
    assert "klik" in shown and "onerror" in shown


def test_markdown_literal_escapes_every_markdown_construct():
    tricks = "**tebal** _miring_ # judul :red[merah] :material/home: $$x^2$$ [klik](javascript:x) ![i](http://x/i.png) <b>"
    shown = markdown_literal(tricks)
    assert shown.replace("\\", "").replace("\u2060", "") == tricks  # nothing lost: only escapes added
    assert not re.search(r"(?<!\\)[*_#:\[\]()$!<>]", shown)  # every Markdown character escaped
    assert safe_markdown("Galat: NIK 3578014509870002 <script>") == "Galat\\: NIK \\[NIK\\] ‹script›"
    # what Streamlit turns into icons and links even when escaped: split by an invisible word joiner
    for trick in (":material/home:", ":smile:", "http://x.example/a.png", "https://x.example", "www.x.example"):
        assert trick not in markdown_literal(trick).replace("\\", "")


def test_safe_text_masks_before_neutralising():
    assert safe_text("<b>NIK 3578014509870002</b>") == "‹b›NIK [NIK]‹/b›"
    assert neutralise_markup("plain text, Rp 1.500.000") == "plain text, Rp 1.500.000"
    assert safe_text(None) == ""


# Independent detectors of each kind of personal data, broader than what the module itself looks for
REAL_DETECTORS = {
    "NIK-like 16-digit numbers": re.compile(r"(?<!\d)\d(?:[ .\-]?\d){15}(?![ .\-]?\d)"),
    "phone numbers (08…, +62…, 62…)": re.compile(r"(?<!\d)(?:\+\s?62|62|0)[\s.\-]*(?:\(0\)[\s.\-]*)?8(?:[\s.\-]*\d){7,11}(?!\d)"),
    "e-mail addresses": re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"),
    "'Nama : …' lines": re.compile(r"(?i)\bnama(?:[ \t]+(?:lengkap|pelapor|wajib[ \t]+pajak))?[ \t]*[:=][ \t]*(?!\[)[a-z]"),
    "'nama saya …' phrases": re.compile(r"(?i)\bnama[ \t]+saya[ \t]+(?:adalah[ \t]+)?(?!\[)[a-z]"),
    "house-number addresses": re.compile(
        r"(?i)\b(?:jl|jln|jalan|gg|gang|blok|komplek|kompleks|perum|perumahan|desa|kp|kampung|regency|residence)"
        r"\b\.?[^,\n\[]{0,40}?\bno\.?[ \t]*:?[ \t]*\d+(?![ \t]*(?:tahun|thn)\b)"),
    "RT/RW": re.compile(r"(?i)(?<![a-z])(?:rt|rw)\.?[ \t]*:?[ \t]*0*\d{1,3}(?!\d)"),
    "alleys (Gg. …)": re.compile(r"\b(?:Gg|GG|gg)\b\.?[ \t]*(?!\[)[A-Za-z0-9]"),
    "'Alamat : …' lines": re.compile(r"(?i)\balamat(?:[ \t]+(?:rumah|lengkap|saya|pelapor))?[ \t]*:[ \t]*(?!\[)\S"),
}
# Kept on purpose and only counted: a hamlet or a road without a house number is where the problem is
PLACES = re.compile(r"(?i)\b(?:kp|kampung|dusun|dsn)\b\.?[ \t]*(?!\[)[a-z]")
REAL_TEXT_FIELDS = ("judul_laporan", "isi_laporan_awal", "isi_laporan_akhir", "alasan_tunda_arsip", "kecamatan",
                    "kelurahan")


def real_lapor_texts() -> list[str]:
    """Every free-text cell of the real export, read by the project's own LAPOR connector."""
    from connectors.registry import connector_for
    from regions import load_region

    connector = connector_for("lapor", load_region("kab_bandung"), source=REAL_LAPOR)
    return [raw[field] for raw in connector.fetch(None) for field in REAL_TEXT_FIELDS
            if isinstance(raw.get(field), str) and raw[field].strip()]


@pytest.mark.skipif(not REAL_LAPOR.exists(), reason="the real export is only in ../shared/real")
def test_real_lapor_texts_keep_no_personal_data_after_masking(capsys):
    """Counts only: the real texts are never printed, copied or kept."""
    texts = real_lapor_texts()
    assert len(texts) > 2000
    masked = [mask_pii(text) for text in texts]
    found = {kind: sum(len(p.findall(text)) for text in texts) for kind, p in REAL_DETECTORS.items()}
    left = {kind: sum(len(p.findall(text)) for text in masked) for kind, p in REAL_DETECTORS.items()}
    assert all(found[kind] > 0 for kind in ("NIK-like 16-digit numbers", "phone numbers (08…, +62…, 62…)",
                                            "e-mail addresses", "'Nama : …' lines", "RT/RW")), found
    assert left == dict.fromkeys(REAL_DETECTORS, 0), {kind: n for kind, n in left.items() if n}
    shown = [safe_text(text) for text in texts]  # and what a page shows (masked, then made inert)
    assert sum(len(p.findall(text)) for p in REAL_DETECTORS.values() for text in shown) == 0
    changed = sum(1 for before, after in zip(texts, masked) if before != after)
    markers = Counter(marker for text in masked for marker in MARKERS for _ in range(text.count(marker)))
    places = (sum(len(PLACES.findall(t)) for t in texts), sum(len(PLACES.findall(t)) for t in masked))
    with capsys.disabled():
        print(f"\nreal LAPOR export: {len(texts)} texts, {changed} changed by masking")
        for kind in REAL_DETECTORS:
            print(f"  {kind}: found {found[kind]}, left after masking {left[kind]}")
        print(f"  hamlet names (kept as the problem's location): {places[0]}, {places[1]} left unmasked")
        print(f"  markers: {dict(markers)}")


@pytest.mark.parametrize("text", ["1" * 8000, "A" * 8000, "a" * 8000, "a@" * 4000, "Nama : " + "A" * 8000,
                                  "Aa " * 3000, "08" * 4000, "Jl " * 3000, "atas nama " * 1000, "www." * 2000])
def test_pathological_text_never_hangs_the_masking(text):
    """A catastrophic-backtracking guard, not a speed test: such a pattern takes minutes to years on 8,000
    characters, so a 60 s ceiling tells a hang from a slow machine (speed belongs to the benchmarks)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    try:
        masked = pool.submit(safe_text, text).result(timeout=60)
    finally:
        pool.shutdown(wait=False)
    assert isinstance(masked, str) and masked
