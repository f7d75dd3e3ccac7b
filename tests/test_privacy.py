"""Personal data is masked in complaint texts, and complaint texts are inert as markup.

Every example here is made up. The real LAPOR export is only read (never copied into the repository):
after masking, no NIK, phone number or e-mail address may remain in any of its texts.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest

from metrics.privacy import ADDRESS, EMAIL, MARKERS, NAME, NIK, PHONE, mask_pii, neutralise_markup, safe_text
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


def test_safe_text_masks_before_neutralising():
    assert safe_text("<b>NIK 3578014509870002</b>") == "‹b›NIK [NIK]‹/b›"
    assert neutralise_markup("plain text, Rp 1.500.000") == "plain text, Rp 1.500.000"
    assert safe_text(None) == ""


@pytest.mark.skipif(not REAL_LAPOR.exists(), reason="the real export is only in ../shared/real")
def test_real_lapor_texts_carry_no_identity_numbers_phones_or_emails_after_masking(capsys):
    import pandas as pd

    frame = pd.read_excel(REAL_LAPOR, engine="calamine")
    columns = [c for c in ("Judul Laporan", "Isi Laporan Awal", "Isi Laporan Akhir", "Alasan Tunda/Arsip")
               if c in frame.columns]
    texts = [str(v) for column in columns for v in frame[column].dropna()]
    assert len(texts) > 1000

    raw_leaky = sum(1 for text in texts if leaks(text))
    masked_texts, counts, remaining = 0, Counter(), []
    for text in texts:
        masked = mask_pii(text)
        if masked != text:
            masked_texts += 1
        counts.update({marker: masked.count(marker) for marker in MARKERS if marker in masked})
        remaining += leaks(masked)
        remaining += leaks(safe_text(text))
    assert remaining == [], f"{len(remaining)} personal-data patterns survive masking"
    assert raw_leaky > 0  # the export really does contain such data, so the test means something
    with capsys.disabled():
        print(f"\nreal LAPOR export: {len(texts)} texts, {raw_leaky} with a NIK/phone/e-mail pattern before masking, "
              f"{masked_texts} with something masked; markers: {dict(counts)}")


@pytest.mark.parametrize("text", ["1" * 8000, "A" * 8000, "a" * 8000, "a@" * 4000, "Nama : " + "A" * 8000,
                                  "Aa " * 3000, "08" * 4000, "Jl " * 3000, "atas nama " * 1000, "www." * 2000])
def test_pathological_text_is_masked_quickly(text):
    import time

    started = time.perf_counter()
    safe_text(text)
    assert time.perf_counter() - started < 1.0
