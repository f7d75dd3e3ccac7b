"""Indonesian complaint texts: templates x places x details, with optional fake personal data."""
from __future__ import annotations

import re

import numpy as np

from .people import LANDMARKS, chance, pick, rt_rw

# Per unified category: (title, problem) pairs and impact phrases. Titles and problems are picked as a
# pair, preferring pairs that share a word with the channel's own category text.
PHRASES: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "roads": ([("Jalan berlubang", "jalan berlubang cukup dalam"),
               ("Jalan rusak parah", "jalan rusak parah dan bergelombang"),
               ("Aspal mengelupas", "aspal mengelupas dan banyak kerikil lepas"),
               ("Paving rusak", "paving di gang ambles dan lepas"),
               ("Trotoar rusak", "trotoar pecah dan berlubang"),
               ("Bekas galian tidak ditutup", "bekas galian kabel tidak ditutup kembali dengan rapi"),
               ("Jembatan rusak", "pagar jembatan patah dan lantainya berlubang")],
              ["sudah ada pengendara motor yang jatuh", "sangat membahayakan pengendara terutama malam hari",
               "kalau hujan lubangnya tertutup air dan tidak kelihatan"]),
    "flooding": ([("Banjir setiap hujan", "banjir setinggi lutut setiap hujan deras"),
                  ("Genangan tidak surut", "genangan air tidak surut berjam-jam"),
                  ("Banjir masuk rumah", "air banjir masuk ke rumah warga"),
                  ("Jalan tergenang", "jalan tergenang sampai kendaraan mogok")],
                 ["warga tidak bisa keluar rumah", "banyak motor mogok", "sudah berulang kali musim hujan ini"]),
    "drainage": ([("Saluran tersumbat", "saluran air tersumbat sampah"),
                  ("Gorong-gorong mampet", "gorong-gorong penuh sedimen"),
                  ("Saluran meluap", "saluran meluap dan berbau"),
                  ("Tutup saluran hilang", "tutup saluran hilang sehingga berlubang"),
                  ("Box culvert belum selesai", "pekerjaan box culvert tidak kunjung selesai"),
                  ("Sungai penuh sampah", "sungai penuh sampah dan enceng gondok")],
                 ["bau tidak sedap sampai ke rumah", "air meluap ke jalan saat hujan", "banyak nyamuk"]),
    "waste": ([("Sampah menumpuk di TPS", "sampah menumpuk di TPS dan tidak diangkut"),
               ("Pembuangan sampah liar", "ada pembuangan sampah liar di lahan kosong"),
               ("Sampah tidak diangkut", "petugas kebersihan tidak mengangkut sampah beberapa hari"),
               ("Pembakaran sampah", "warga membakar sampah di pinggir jalan")],
              ["baunya menyengat", "banyak lalat dan tikus", "asapnya masuk ke rumah warga"]),
    "street_lights": ([("PJU mati", "lampu PJU mati"), ("Lampu jalan mati", "lampu jalan mati total"),
                       ("Lampu PJU berkedip", "lampu PJU berkedip-kedip"),
                       ("Tiang PJU miring", "tiang PJU miring hampir roboh"),
                       ("Lampu jalan menyala siang", "lampu jalan menyala terus di siang hari")],
                      ["jalan gelap gulita di malam hari", "rawan kejahatan kalau malam", "warga takut lewat"]),
    "trees": ([("Pohon rawan tumbang", "pohon besar miring dan rawan tumbang"),
               ("Permohonan perantingan pohon", "dahan pohon menjuntai mengenai kabel dan mohon perantingan"),
               ("Pohon tumbang", "pohon tumbang menutup sebagian jalan"),
               ("Pemangkasan pohon", "ranting pohon menutupi lampu PJU dan perlu pemangkasan"),
               ("Taman tidak terawat", "taman kota tidak terawat dan rumputnya tinggi")],
              ["khawatir menimpa pengendara", "kalau angin kencang dahan berjatuhan", "jalan jadi sempit"]),
    "parking": ([("Parkir liar", "parkir liar memakan badan jalan"),
                 ("Juru parkir liar", "juru parkir liar menarik tarif di atas ketentuan"),
                 ("Parkir di trotoar", "kendaraan parkir di trotoar"),
                 ("Parkir tanpa karcis", "parkir di depan toko tanpa karcis")],
                ["jalan jadi macet", "pejalan kaki terpaksa turun ke jalan", "sudah berlangsung lama"]),
    "street_vendors": ([("PKL di trotoar", "PKL berjualan di trotoar"),
                        ("PKL menutup saluran", "lapak PKL menutup saluran air"),
                        ("PKL sampai larut malam", "PKL buka sampai larut malam dan meninggalkan sampah")],
                       ["pejalan kaki tidak bisa lewat", "lingkungan jadi kumuh", "lalu lintas terganggu"]),
    "traffic": ([("Lampu lalu lintas mati", "lampu lalu lintas mati"),
                 ("Durasi lampu merah", "durasi lampu merah di lampu lalu lintas terlalu lama"),
                 ("Rambu roboh", "rambu lalu lintas roboh"), ("Marka jalan pudar", "marka jalan sudah pudar"),
                 ("Kemacetan parah", "macet parah setiap jam pulang kerja"),
                 ("Angkutan umum", "jadwal angkutan umum dan bus kota tidak menentu")],
                ["rawan kecelakaan", "kendaraan saling serobot", "antrean kendaraan sangat panjang"]),
    "public_order": ([("Balap liar", "ada balap liar setiap malam minggu"),
                      ("Bangunan liar", "bangunan liar di bantaran sungai"),
                      ("Warung buka sampai pagi", "warung buka sampai pagi dan ramai"),
                      ("Manusia silver di perempatan", "ada manusia silver dan pengamen di perempatan")],
                     ["warga terganggu", "meresahkan warga sekitar", "sudah sering ditegur tapi tidak digubris"]),
    "civil_registration": ([("KTP belum jadi", "e-KTP (kartu tanda penduduk) belum jadi padahal sudah lama mengajukan"),
                            ("Pengajuan KK belum diproses", "pengajuan kartu keluarga lewat Klampid belum diproses"),
                            ("Akta kelahiran belum terbit", "akta kelahiran anak belum terbit"),
                            ("Akta kematian", "pengurusan akta kematian orang tua belum selesai"),
                            ("Data kependudukan", "data kependudukan tidak sinkron"),
                            ("Pindah domisili", "pengajuan pindah domisili ditolak sistem"),
                            ("KIA anak", "kartu identitas anak (KIA) belum dicetak")],
                           ["saya butuh untuk daftar sekolah anak", "tidak bisa mengurus BPJS",
                            "sudah bolak-balik ke kelurahan"]),
    "social_assistance": ([("Bansos tidak diterima",
                            "tidak terdaftar sebagai penerima bansos padahal keluarga miskin"),
                           ("Permakanan lansia", "bantuan permakanan untuk lansia tidak datang"),
                           ("Status MBR dicabut",
                            "status MBR (masyarakat berpenghasilan rendah) dicabut tanpa pemberitahuan"),
                           ("Data DTKS", "data DTKS belum diperbarui"),
                           ("PKH belum cair", "bantuan PKH belum cair"),
                           ("Warga terlantar", "ada warga terlantar tidur di emperan toko")],
                          ["kami sangat membutuhkan", "tetangga yang mampu malah dapat", "mohon pendataan ulang"]),
    "health": ([("Pelayanan puskesmas", "pelayanan di puskesmas lambat dan antre lama"),
                ("BPJS ditolak", "kartu BPJS kesehatan ditolak rumah sakit"),
                ("Permohonan fogging", "banyak warga terkena DBD dan mohon fogging nyamuk"),
                ("Obat kosong", "obat di puskesmas sering kosong"),
                ("Jadwal vaksinasi", "jadwal vaksinasi dan imunisasi anak di posyandu tidak jelas"),
                ("Stunting", "pendampingan balita stunting di kampung kami berhenti")],
               ["pasien lansia kelelahan menunggu", "warga khawatir", "mohon dievaluasi"]),
    "education": ([("PPDB bermasalah", "pendaftaran PPDB zonasi bermasalah"),
                   ("Pungutan sekolah", "sekolah menarik pungutan seragam"),
                   ("Beasiswa belum cair", "beasiswa pemkot belum cair"),
                   ("Atap sekolah bocor", "atap ruang kelas sekolah bocor")],
                  ["orang tua murid keberatan", "anak-anak tidak nyaman belajar", "mohon kejelasan"]),
    "water": ([("Air PDAM mati", "air PDAM mati"), ("Air PDAM keruh", "air PDAM keruh dan berbau"),
               ("Pipa PDAM bocor", "pipa PDAM bocor di pinggir jalan"),
               ("Tagihan PDAM naik", "tagihan PDAM naik tidak wajar"),
               ("Air kecil", "tekanan air PDAM sangat kecil")],
              ["warga harus beli air galon", "air terbuang percuma", "tidak ada pemberitahuan sebelumnya"]),
    "electricity": ([("Listrik padam", "listrik padam berulang kali"),
                     ("Kabel menjuntai", "kabel listrik menjuntai rendah"),
                     ("Tiang listrik miring", "tiang listrik miring"),
                     ("Gardu berbunyi", "gardu listrik berbunyi keras")],
                    ["alat elektronik warga rusak", "membahayakan pengguna jalan", "warga resah"]),
    "pollution": ([("Bau menyengat", "bau menyengat dari pabrik"),
                   ("Kebisingan proyek", "kebisingan proyek sampai tengah malam"),
                   ("Limbah ke sungai", "limbah cair dibuang ke sungai"),
                   ("Debu proyek", "debu dari truk proyek mencemari udara")],
                  ["warga sesak napas", "anak-anak tidak bisa tidur", "air sungai berubah warna"]),
    "building_permits": ([("Bangunan tanpa izin", "bangunan berdiri tanpa persetujuan bangunan gedung (PBG)"),
                          ("Reklame tanpa izin", "reklame besar dipasang tanpa izin"),
                          ("Ruko menutup saluran", "pembangunan ruko menutup saluran"),
                          ("Perizinan lambat", "pengurusan perizinan tidak ada kepastian")],
                         ["mohon ditertibkan", "sudah berbulan-bulan", "mengganggu lingkungan"]),
    "housing": ([("Pengajuan rusunawa", "pengajuan rusunawa belum ada kabar"),
                 ("Rumah tidak layak huni", "rumah tidak layak huni belum dibantu"),
                 ("Surat ijo", "status tanah surat ijo belum jelas"),
                 ("Fasum perumahan", "fasum perumahan belum diserahkan ke pemkot")],
                ["sudah menunggu lebih dari setahun", "mohon kejelasan", "keluarga kami kesulitan"]),
    "women_children": ([("Kekerasan terhadap anak", "ada dugaan kekerasan terhadap anak di lingkungan kami"),
                        ("Pendampingan korban KDRT", "mohon pendampingan korban KDRT"),
                        ("Perlindungan anak", "anak putus sekolah dan dipekerjakan")],
                       ["mohon segera ditangani", "korban butuh perlindungan", "warga tidak berani melapor"]),
    "fire": ([("Kebakaran lahan", "ada kebakaran lahan kosong"),
              ("Sarang tawon", "ada sarang tawon besar di rumah warga"), ("Evakuasi ular", "ada ular masuk rumah"),
              ("Hidran rusak", "hidran kebakaran di kampung rusak")],
             ["mohon segera dibantu", "warga panik", "berbahaya untuk anak-anak"]),
    "disaster": ([("Atap roboh", "angin kencang merobohkan atap rumah"), ("Tanggul retak", "tanggul sungai retak"),
                  ("Rumah roboh", "rumah warga roboh setelah hujan")],
                 ["warga mengungsi ke rumah tetangga", "mohon bantuan", "khawatir ada korban"]),
    "crime": ([("Pencurian motor", "sering terjadi pencurian motor"), ("Rawan begal", "ada begal di jalan sepi"),
               ("Judi online", "maraknya judi online di kampung"), ("Peredaran narkoba", "peredaran narkoba di gang"),
               ("Keamanan kampung", "keamanan kampung kurang karena tidak ada ronda")],
              ["warga resah", "mohon patroli rutin", "sudah beberapa kali kejadian"]),
    "information": ([("Permohonan informasi", "cara mengurus surat keterangan domisili"),
                     ("Jadwal pelayanan", "jadwal pelayanan di kelurahan"),
                     ("Syarat beasiswa", "syarat pengajuan beasiswa pemkot"),
                     ("Program padat karya", "informasi program padat karya"),
                     ("Layanan online", "layanan online dan aplikasi pemkot untuk mengurus izin usaha")],
                    ["mohon informasinya", "terima kasih sebelumnya", "apakah bisa diurus online"]),
    "other": ([("Pelayanan petugas", "pelayanan petugas kurang ramah"),
               ("Aplikasi error", "aplikasi layanan pemkot sering error"),
               ("Pungutan liar", "ada pungutan liar oleh oknum"),
               ("Gaji tidak dibayar", "gaji pekerja tidak dibayar perusahaan"),
               ("Pajak daerah", "tagihan pajak PBB salah hitung"),
               ("Saran untuk pemkot", "saran agar taman kota buka lebih lama"),
               ("Apresiasi", "terima kasih atas pelayanan yang cepat")],
              ["mohon dievaluasi", "sangat mengecewakan", "mohon ditindak tegas"]),
}
OPENERS = ["", "", "Selamat pagi.", "Selamat siang, admin.", "Assalamualaikum.", "Mohon izin melaporkan,",
           "Yth. Pemerintah Kota Surabaya,", "Permisi,", "Halo admin,"]
DURATIONS = ["Kondisi ini sudah berlangsung {d} hari.", "Sudah lebih dari {w} minggu belum ada tindak lanjut.",
             "Sudah pernah dilaporkan ke RT/RW tapi belum ada tindak lanjut.", "Sejak {d} hari yang lalu.", ""]
CLOSERS = ["Mohon segera ditindaklanjuti.", "Mohon bantuan dari dinas terkait.", "Terima kasih atas perhatiannya.",
           "Mohon dicek ke lokasi.", "Kami berharap segera ada perbaikan.", "Mohon perhatiannya, terima kasih."]
INFO_OPENERS = ["Saya ingin bertanya mengenai", "Mohon informasi tentang", "Bagaimana", "Saya mau tanya soal"]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def location_phrase(rng: np.random.Generator, place: dict, detail: float) -> str:
    """From a full address ('di jalan ... kelurahan ... kecamatan ...') to nothing, by `detail` (0..1)."""
    kel, kec, road = place["kelurahan"], place["kecamatan"], place["street"]
    if rng.random() > detail:
        return ""
    form = int(rng.integers(6))
    if form == 0 or kel is None:
        return f"di {road} {pick(rng, LANDMARKS)}"
    if form == 1:
        return f"di {road} {rt_rw(rng)} Kelurahan {kel} Kecamatan {kec}"
    if form == 2:
        return f"di {road.lower()} kel. {kel.lower()} kec. {kec.lower()}"
    if form == 3:
        return f"di daerah {kel}, {kec}"
    if form == 4:
        return f"{pick(rng, LANDMARKS)} {road} kelurahan {kel.lower()} kecamatan {kec.lower()} kota Surabaya"
    return f"di {road} No. {int(rng.integers(1, 150))}, {kel}"


_TOPICS: dict[tuple[str, str], list[tuple[str, str]]] = {}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3}


def topics(category: str, source_text: str) -> list[tuple[str, str]]:
    """The category's (title, problem) pairs that best match the source category text."""
    key = (category, source_text)
    if key not in _TOPICS:
        pairs = PHRASES.get(category, PHRASES["other"])[0]
        wanted = _words(source_text)
        scores = [len(wanted & _words(t + " " + p)) for t, p in pairs]
        best = max(scores)
        _TOPICS[key] = [pair for pair, score in zip(pairs, scores) if score == best] if best else pairs
    return _TOPICS[key]


def title(rng: np.random.Generator, stem: str, place: dict) -> str:
    if chance(rng, 0.5):
        return f"{stem} di {place['street']}" if chance(rng, 0.6) else f"{stem} {place['kelurahan'] or ''}".strip()
    return stem


def complaint_body(rng: np.random.Generator, category: str, problem: str, place: dict, detail: float = 0.6) -> str:
    impacts = PHRASES.get(category, PHRASES["other"])[1]
    where = location_phrase(rng, place, detail)
    if category == "information":
        sentence = f"{pick(rng, INFO_OPENERS)} {problem}{' ' + where if where else ''}?"
        parts = [pick(rng, OPENERS), sentence, capitalise(pick(rng, impacts)) + "."]
    else:
        sentence = capitalise(f"{problem}{' ' + where if where else ''}.")
        since = pick(rng, DURATIONS).format(d=int(rng.integers(2, 15)), w=int(rng.integers(1, 5)))
        parts = [pick(rng, OPENERS), sentence, since, capitalise(pick(rng, impacts)) + ".", pick(rng, CLOSERS)]
    if parts[0].endswith(","):
        parts[1] = parts[1][:1].lower() + parts[1][1:]
    return " ".join(p for p in parts if p)


def personal_data(rng: np.random.Generator, who: dict, place: dict) -> str:
    """A fake identity block or inline contact, as citizens paste into complaint texts."""
    style = int(rng.integers(4))
    if style == 0:
        sep = pick(rng, ["\n", " ", ""])
        lines = [f"Nama : {who['nama']}", f"NIK : {who['nik']}", f"Alamat : {place['street']} {rt_rw(rng)}",
                 f"No HP : {who['telepon']}"]
        return sep.join(lines)
    if style == 1:
        return f"Bisa hubungi saya di {who['telepon']} atau {who['email']}."
    if style == 2:
        return f"Saya {who['nama']}, NIK {who['nik']}, no. WA {who['telepon']}."
    return f"Lokasi: https://maps.google.com/?q={place['lat']:.5f},{place['lon']:.5f} . Kontak: {who['telepon']}"


def with_personal_data(rng: np.random.Generator, body: str, who: dict, place: dict) -> str:
    block = personal_data(rng, who, place)
    return f"{block}\n{body}" if chance(rng, 0.4) else f"{body} {block}"


SOCIAL_TAGS = ["min", "mimin", "tolong", "pak", "bu", "cak", "rek"]
EMOJI = ["", "", "🙏", "😡", "😤", "🙏🙏", "😢", "⚠️"]


def social_post(rng: np.random.Generator, topic: tuple[str, str], place: dict, account: str, sentiment: str) -> str:
    """A short, informal post mentioning the city account."""
    if sentiment == "positive":
        thanks = pick(rng, ["Terima kasih", "Matur suwun", "Makasih banyak", "Salut"])
        emoji = pick(rng, ["👍", "🙏", "👏", ""])
        return f"{thanks} {account}, {topic[0].lower()} sudah ditangani cepat {emoji}".rstrip()
    where = ""
    if chance(rng, 0.55):
        where = f" di {place['street']}"
    elif place["kelurahan"] and chance(rng, 0.4):
        where = f" daerah {place['kelurahan']}"
    problem = topic[1]
    since = pick(rng, ["", " dari kemarin", f" sudah {int(rng.integers(2, 9))} hari", " dari minggu lalu"])
    ask = pick(rng, ["Tolong dicek", "Mohon ditindak", "Kapan diperbaiki?", "Gimana ini?", ""])
    parts = [f"{account} {pick(rng, SOCIAL_TAGS)}, {problem}{where}{since}.", ask, pick(rng, EMOJI)]
    return " ".join(p for p in parts if p)
