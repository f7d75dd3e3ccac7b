"""Writers for SP4N-LAPOR! exports in the variants found in the field, for tests."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

COLUMNS_17 = [
    "Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Klasifikasi Laporan", "ID Kategori", "Kategori",
    "Judul Laporan", "Isi Laporan Awal", "Isi Laporan Akhir", "Tipe Laporan (Anonim/Rahasia)", "Sumber Laporan",
    "Instansi Induk", "Instansi Terdisposisi", "Status Laporan", "Alasan Tunda/Arsip", "Provinsi", "Kota/Kabupaten",
]
COLUMNS_20 = COLUMNS_17[:12] + ["ID Instansi Terdisposisi"] + COLUMNS_17[12:] + ["Kecamatan", "Kelurahan"]


def report(tracking_id, date="29 May 2023", time="04:05:34", status="Ditutup oleh Sistem", **overrides) -> dict:
    row = {
        "Tracking ID": tracking_id, "Tanggal Laporan Masuk": date, "Waktu Laporan Masuk": time,
        "Klasifikasi Laporan": "Pengaduan Tidak Berkadar Pengawasan", "ID Kategori": 1001,
        "Kategori": "Jalan Berlubang", "Judul Laporan": f"Jalan berlubang {tracking_id}",
        "Isi Laporan Awal": "Jalan berlubang di depan pasar", "Isi Laporan Akhir": "Jalan berlubang di depan pasar",
        "Tipe Laporan (Anonim/Rahasia)": "Anonim", "Sumber Laporan": "Website",
        "Instansi Induk": "Pemerintah Kota Surabaya", "ID Instansi Terdisposisi": 555,
        "Instansi Terdisposisi": "Dinas Sumber Daya Air dan Bina Marga", "Status Laporan": status,
        "Alasan Tunda/Arsip": None, "Provinsi": "Jawa Timur", "Kota/Kabupaten": "Surabaya",
        "Kecamatan": "GENTENG", "Kelurahan": None,
    }
    row.update(overrides)
    return row


def write_xlsx(path: Path, rows: list[dict], *, columns=COLUMNS_20, preamble: dict | None = None) -> Path:
    """The official layout: preamble labels in column A, values in column C, blank rows, header on row 11."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if preamble is not None:
        for i, (label, value) in enumerate(preamble.items()):
            sheet.cell(row=1 + 2 * i, column=1, value=label)
            sheet.cell(row=1 + 2 * i, column=3, value=value)
        header_row = 11
    else:
        header_row = 1
    for c, name in enumerate(columns, start=1):
        sheet.cell(row=header_row, column=c, value=name)
    for r, row in enumerate(rows, start=header_row + 1):
        for c, name in enumerate(columns, start=1):
            sheet.cell(row=r, column=c, value=row.get(name))
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[dict], *, columns=COLUMNS_20, delimiter=",", encoding="utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return path


OFFICIAL_PREAMBLE = {
    "Judul Laporan": "Laporan Ringkas",
    "Nama Instansi": "Pemerintah Kota Surabaya",
    "Tanggal Generate": "2025-11-14",
    "Periode Masuk": "(2021-01-01) - (2024-12-31)",
    "Pengelola": "Diskominfo",
}
