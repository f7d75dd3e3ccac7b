"""Fake identities and places. Names are random combinations, never real people's data."""
from __future__ import annotations

import numpy as np

MALE = ("Agus Budi Eko Hendra Joko Rudi Slamet Wahyu Andi Bayu Dimas Fajar Rizky Arif Imam Yusuf Teguh Bambang "
        "Heri Sugeng Dedi Hadi Rahmat Ilham Galih Aditya Reza Fikri Gilang Satrio Ahmad Yoga Doni Irfan").split()
FEMALE = ("Siti Dewi Sri Ratna Yuli Endang Rina Wati Fitri Ayu Nur Lestari Indah Putri Dwi Novi Rini Intan Anisa "
          "Nabila Aulia Maya Tri Wulan Kartika Ningsih Diah Eka Lia Mega").split()
FAMILY = ("Santoso Wijaya Prasetyo Setiawan Susanto Hidayat Saputra Kurniawan Purnomo Nugroho Wibowo Rahmawati "
          "Wulandari Hartono Handayani Permatasari Maulana Firmansyah Ramadhan Pratama Utomo Kusuma Yulianto "
          "Hasanah Fauzi Anggraini Sulistyo Rohman Effendi Mahendra Cahyono Fitriani").split()
PHONE_PREFIXES = "0812 0813 0821 0822 0852 0853 0856 0857 0877 0878 0895 0896 0838 0831".split()
MAIL_DOMAINS = ["gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "ymail.com"]
ROMAN = "I II III IV V VI VII VIII IX X".split()

MAIN_ROADS = {
    "asemrowo": ["Jl. Asem Rowo", "Jl. Tambak Langon", "Jl. Greges Barat"],
    "benowo": ["Jl. Raya Benowo", "Jl. Sememi Jaya", "Jl. Tambak Osowilangun"],
    "bubutan": ["Jl. Bubutan", "Jl. Pahlawan", "Jl. Kebon Rojo", "Jl. Semarang"],
    "bulak": ["Jl. Kenjeran", "Jl. Sukolilo Baru", "Jl. Bulak Banteng"],
    "dukuh_pakis": ["Jl. Mayjen Sungkono", "Jl. Dukuh Kupang", "Jl. Gunungsari"],
    "gayungan": ["Jl. Gayungsari", "Jl. Ketintang Baru", "Jl. Menanggal"],
    "genteng": ["Jl. Tunjungan", "Jl. Embong Malang", "Jl. Kedungdoro", "Jl. Genteng Kali"],
    "gubeng": ["Jl. Raya Gubeng", "Jl. Kertajaya", "Jl. Pucang Anom", "Jl. Dharmawangsa"],
    "gunung_anyar": ["Jl. Gunung Anyar", "Jl. Rungkut Madya", "Jl. Gunung Anyar Tambak"],
    "jambangan": ["Jl. Jambangan", "Jl. Kebonsari", "Jl. Karah"],
    "karang_pilang": ["Jl. Mastrip", "Jl. Kebraon", "Jl. Raya Karang Pilang"],
    "kenjeran": ["Jl. Kapas Krampung", "Jl. Tanah Merah", "Jl. Tambak Wedi"],
    "krembangan": ["Jl. Perak Barat", "Jl. Indrapura", "Jl. Dupak"],
    "lakarsantri": ["Jl. Lidah Kulon", "Jl. Raya Menganti", "Jl. Bangkingan"],
    "mulyorejo": ["Jl. Mulyosari", "Jl. Kalijudan", "Jl. Kejawan Putih"],
    "pabean_cantian": ["Jl. Kembang Jepun", "Jl. Panggung", "Jl. Perak Timur"],
    "pakal": ["Jl. Raya Pakal", "Jl. Babat Jerawat", "Jl. Sumberejo"],
    "rungkut": ["Jl. Rungkut Industri", "Jl. Raya Kedung Baruk", "Jl. Medokan Ayu", "Jl. Wonorejo"],
    "sambikerep": ["Jl. Raya Sambikerep", "Jl. Lontar", "Jl. Bukit Darmo"],
    "sawahan": ["Jl. Banyu Urip", "Jl. Petemon", "Jl. Putat Jaya", "Jl. Pakis"],
    "semampir": ["Jl. Ampel", "Jl. Sidotopo", "Jl. Wonosari", "Jl. Pegirian"],
    "simokerto": ["Jl. Simokerto", "Jl. Kapasan", "Jl. Tambak Rejo"],
    "sukolilo": ["Jl. Arif Rahman Hakim", "Jl. Keputih", "Jl. Klampis Jaya", "Jl. Semolowaru"],
    "sukomanunggal": ["Jl. Tanjungsari", "Jl. Simo Katrungan", "Jl. Sukomanunggal Jaya"],
    "tambaksari": ["Jl. Tambaksari", "Jl. Kapas Madya", "Jl. Pacar Keling", "Jl. Ploso"],
    "tandes": ["Jl. Tandes", "Jl. Raya Balongsari", "Jl. Manukan"],
    "tegalsari": ["Jl. Raya Darmo", "Jl. Basuki Rahmat", "Jl. Kedungsari", "Jl. Pandegiling"],
    "tenggilis_mejoyo": ["Jl. Raya Tenggilis", "Jl. Jemursari", "Jl. Kendangsari", "Jl. Prapen"],
    "wiyung": ["Jl. Raya Wiyung", "Jl. Menganti Wiyung", "Jl. Babatan"],
    "wonocolo": ["Jl. Jemur Andayani", "Jl. Ahmad Yani", "Jl. Margorejo", "Jl. Sidosermo"],
    "wonokromo": ["Jl. Raya Wonokromo", "Jl. Jagir Wonokromo", "Jl. Ngagel", "Jl. Darmo Kali"],
}
LANDMARKS = ["depan masjid", "dekat SD negeri", "samping balai RW", "depan minimarket", "dekat pasar",
             "sebelah puskesmas", "depan kantor kelurahan", "dekat jembatan", "di pertigaan", "dekat musala",
             "depan sekolah", "dekat taman", "di ujung gang", "dekat pos kamling"]


def pick(rng: np.random.Generator, items):
    return items[int(rng.random() * len(items))]


def weighted(rng: np.random.Generator, options: list[tuple[str, float]]) -> str:
    """One value from (value, weight) pairs."""
    roll = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


def chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def phone(rng: np.random.Generator) -> str:
    digits = "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(7, 9))))
    number = pick(rng, PHONE_PREFIXES) + digits
    style = rng.random()
    if style < 0.25:
        return "+62" + number[1:]
    if style < 0.35:
        return f"{number[:4]}-{number[4:8]}-{number[8:]}"
    return number


def nik(rng: np.random.Generator, district_no: int, female: bool) -> str:
    """16 digits shaped like a Surabaya NIK (35 78 kk ddmmyy ssss), random and fake."""
    day = int(rng.integers(1, 29)) + (40 if female else 0)
    month, year = int(rng.integers(1, 13)), int(rng.integers(50, 106)) % 100
    return f"3578{district_no:02d}{day:02d}{month:02d}{year:02d}{int(rng.integers(1, 9999)):04d}"


def person(rng: np.random.Generator, district_no: int) -> dict:
    female = chance(rng, 0.5)
    first = pick(rng, FEMALE if female else MALE)
    name = first if chance(rng, 0.25) else f"{first} {pick(rng, FAMILY)}"
    handle = name.lower().replace(" ", pick(rng, [".", "_", ""]))
    email = f"{handle}{int(rng.integers(1, 99))}@{pick(rng, MAIL_DOMAINS)}"
    return {"nama": name, "nik": nik(rng, district_no, female), "telepon": phone(rng), "email": email}


def street(rng: np.random.Generator, district_code: str, kelurahan: str | None) -> str:
    roads = MAIN_ROADS.get(district_code, [])
    if kelurahan is None or (roads and chance(rng, 0.45)):
        return pick(rng, roads) if roads else "Jl. Raya"
    if chance(rng, 0.5):
        return f"Jl. {kelurahan} {pick(rng, ROMAN)}"
    return f"Jl. {kelurahan} Gg. {int(rng.integers(1, 12))}"


def rt_rw(rng: np.random.Generator) -> str:
    return f"RT {int(rng.integers(1, 13)):02d} RW {int(rng.integers(1, 10)):02d}"
