"""Personal data in free text: find it and mask it before any complaint text can reach a screen.

Citizens paste their identity into complaint texts: names ("Nama : …", "nama saya …", "atas nama …"),
16-digit NIK (also written in groups), phone numbers (08…, +62…, 62…), e-mail addresses, home addresses
("Jl. Melati No. 12", "Gg. Buntu 3", "RT 03 RW 05", "Alamat : …") and Google Maps links. `mask_pii`
replaces each with a marker such as "[NIK]" or "[telepon]"; `safe_text` masks and then makes the text
inert as markup, because complaint text is untrusted and must only ever be shown as text (st.text, a table
cell). Where untrusted text has to go through Markdown (a caption, a message box), use `safe_markdown`.
Other numbers that point at a person or a household (NISN, NPWP, NOP, bank accounts, PLN customer numbers)
become "[nomor]".

Deliberately not masked: 7-digit LAPOR tracking IDs, dates and times, rupiah amounts, regulation numbers
("Perda No. 12 Tahun 2020"), bare road names ("jalan rusak di Jl. Raya Darmo") and hamlet names ("PJU di
Kp. Sukamulya mati"): a road or a kampung is where the problem is, not who reported it. With a house
number, an RT/RW or an alley it is a home address and is masked. Masking errs on the side of hiding: a few words too many are masked
rather than a name too few.
"""
from __future__ import annotations

import re
import unicodedata

NIK = "[NIK]"
NIP = "[NIP]"
PHONE = "[telepon]"
EMAIL = "[email]"
NAME = "[nama]"
ADDRESS = "[alamat]"
NUMBER = "[nomor]"
MARKERS = (NIK, NIP, PHONE, EMAIL, NAME, ADDRESS, NUMBER)

_SEP = r"[ .\-]"  # what people put between digit groups

# --- links ----------------------------------------------------------------------------------------
_MAPS_URL = re.compile(
    r"(?<![A-Za-z0-9.\-])(?:https?://)?(?:www\.)?(?:maps\.app\.goo\.gl|goo\.gl/maps|g\.page|maps\.google\.[a-z.]+"
    r"|google\.[a-z.]+/maps|[a-z]+\.google\.[a-z.]+/maps)[^\s<>\"')\]]*", re.IGNORECASE)
_WHATSAPP_URL = re.compile(r"(?:https?://)?(?:wa\.me|api\.whatsapp\.com/send)[^\s<>\"')\]]*", re.IGNORECASE)
_COORDINATES = re.compile(r"(?<![\d.])-?\d{1,2}\.\d{4,}\s*,\s*-?\d{2,3}\.\d{4,}(?![\d.])")

# --- e-mail ---------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", re.UNICODE)
_EMAIL_SPELLED = re.compile(r"(?<![\w.+\-])[\w.+\-]+\s*[\[(]\s*at\s*[\])]\s*[A-Za-z0-9\-]+(?:\s*(?:[\[(]\s*dot\s*[\])]|\.)"
                            r"\s*[A-Za-z]{2,})+", re.IGNORECASE)

# --- identity numbers -----------------------------------------------------------------------------
# NIP (civil servants): birth date YYYYMMDD, appointment YYYYMM, sex 1|2, 3-digit serial = 18 digits
_NIP = re.compile(r"(?<!\d)(?:19|20)\d{6}\s?(?:19|20)\d{4}\s?[12]\s?\d{3}(?!\d)")
# a number after an identity label, whatever its (possibly mistyped) length
_LABELLED_ID = re.compile(
    r"(?P<label>\b(?:NIK|N\.I\.K|NO\.?\s*KTP|KTP|NO\.?\s*KK|KK|NOMOR\s+INDUK\s+KEPENDUDUKAN|NO\.?\s*INDUK)\b"
    r"\s*(?:[:.=]|NO\.?)?\s*)(?P<number>\d(?:" + _SEP + r"?\d){11,19})(?!\d)", re.IGNORECASE)
_NIK_RUN = re.compile(r"(?<!\d)\d{16}(?!\d)")
_NIK_GROUPED = re.compile(r"(?<!\d)(?<!\d[ .\-])\d{2,6}(?:" + _SEP + r"\d{2,6}){1,5}(?![ .\-]?\d)")
_LONG_RUN = re.compile(r"\d{15,}")  # account numbers, KK numbers, ids inside links
# 15+ digits in dotted or dashed groups: a land-tax object number (NOP 32.73.010.004.012-0345.0), an account
_LONG_GROUPED = re.compile(r"(?<![\d.\-])\d+(?:[.\-]\d+){2,}(?![\d])")
# other numbers that point at one person or household, after their label: student (NISN/NIS/NIM), tax (NPWP,
# NOP), bank account, BPJS/KIS card, electricity customer number
_OTHER_ID = re.compile(
    r"(?P<label>\b(?:NISN|NIS|NIM|NPWP|NOP|NUPTK|NRP|NO\.?\s*REK(?:ENING)?|REKENING|NO\.?\s*BPJS|NO\.?\s*KIS"
    r"|NO\.?\s*PESERTA|ID\s*PEL(?:ANGGAN)?|IDPEL|NO\.?\s*PELANGGAN)\b\.?\s*(?:[:.=]\s*)?(?:[A-Z]{2,6}\s*[:.]?\s*)?)"
    r"(?P<number>\d(?:[ .\-]?\d){7,24})(?![\d])", re.IGNORECASE)

# --- phone numbers --------------------------------------------------------------------------------
# a mobile number: 08…, +62 8…, 62 8… (with spaces, dashes, dots, or "(0)"), 9 to 12 digits after the 0/62
_PHONE = re.compile(r"(?<![\d+])(?:\+\s?62|62|0)(?:" + _SEP + r"|\s?\(0\)\s?)?8\d{1,4}"
                    r"(?:" + _SEP + r"?\d{2,5}){1,4}(?!\d)")
# any number written right after a phone word (landlines such as 031-5312144 as well)
_PHONE_LABELLED = re.compile(
    r"(?P<label>\b(?:telp|telepon|telpon|tlp|tel|hp|handphone|ponsel|wa|whatsapp|no\.?\s*hp|no\.?\s*wa"
    r"|no\.?\s*telp|kontak|hubungi|contact|phone|call)\b\.?(?:[ \t]+(?:kantor|rumah|saya|kami|aktif|pelapor"
    r"|yang|bisa|dihubungi|seluler|genggam|whatsapp|wa))*\s*(?:[:=]|di|ke)?\s*)"
    r"(?P<number>\(?\+?\d[\d ().\-]{6,20}\d)", re.IGNORECASE)
_AMOUNT_BEFORE = re.compile(r"(?:rp|idr|usd|\$)\.?\s*$", re.IGNORECASE)

# --- names ----------------------------------------------------------------------------------------
# where a label starts: not inside a word, or glued on after lower case or digits ("perempuanAlamat:")
_AT_LABEL = r"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z])|(?<=\d))"
_CAP_WORD = r"(?:[A-Z][A-Za-z'`.\-]*)"
_HONORIFIC = r"(?:(?:alm|Alm|almh|H|Hj|dr|Dr|Ir|Drs|Dra|Prof|Sdr|Sdri|Bpk|Bp|Pak|Bu|Ibu|Mr|Mrs)\b\.?[ \t]*)"
_CAP_RUN = _HONORIFIC + r"?" + _CAP_WORD + r"(?:[ \t]+(?:" + _CAP_WORD + r"|bin|binti|van|de)){0,6}"
# words that start a capitalised run without being a name ("Saya Mohon …", "nama Desa …")
_NOT_NAMES = frozenset(
    "warga ingin mau mohon selaku sebagai adalah sudah tinggal yang ini itu juga sangat pernah merasa bukan "
    "tidak belum masih akan telah dari di ke dan atau dengan untuk pada dalam kami kita mereka minta meminta "
    "melaporkan mengadu menyampaikan desa kampung kelurahan kecamatan kabupaten kota jalan perumahan dinas "
    "instansi sekolah aplikasi program kegiatan usaha toko perusahaan pt cv bank rumah puskesmas nomor no "
    "ktp kk nik data sesuai berdasarkan input pemerintah kepala bapak ibu pak bu sdr sdri ucapkan mengucapkan "
    "kecewa berharap harap hanya punya tahu lihat kira rasa pikir kota negara bupati wakil wapres presiden camat "
    "lurah kades kadus rt rw direktur dokter guru menteri gubernur walikota wali polisi kapolsek kapolres "
    "ketua sekretaris bendahara staf petugas pegawai admin pengurus pemilik owner pimpinan atasan perkenalkan "
    "terima terimakasih salam hormat assalamualaikum selamat mohon maaf tolong bisa boleh apakah kenapa "
    "mengapa bagaimana kapan siapa dimana lapor pelapor pemohon korban mahasiswa mahasiswi pelajar siswa siswi "
    "petani pedagang buruh karyawan karyawati pensiunan honorer".split())
# labels that end a "Nama : …" value when they follow it (often glued on: "Budi SantosoNIK : …")
_NEXT_LABEL = (r"(?:NIK|N\.I\.K|NIP|KTP|No\b|No\.|NO\b|NO\.|Nomor|NOMOR|Alamat|ALAMAT|Tempat|TEMPAT|TTL|Tgl|Tanggal"
               r"|TANGGAL|Umur|UMUR|Usia|USIA|Pekerjaan|PEKERJAAN|Jenis|JENIS|Agama|AGAMA|HP|Hp|Telp|TELP|Telepon"
               r"|TELEPON|WA\b|Email|EMAIL|E-mail|Desa|DESA|Kel\.|Kelurahan|KELURAHAN|Kec\.|Kecamatan|KECAMATAN"
               r"|Status|STATUS|Jabatan|JABATAN|Instansi|INSTANSI|RT\b|Rt\b|Kp\.|Dusun|DUSUN|Korban|Pelapor)")
# "Nama : …", "Nama lengkap: …", "Nama Wajib Pajak : …" (not "Nama Instansi : …")
_NAME_LABEL = re.compile(
    r"(?P<label>" + _AT_LABEL + r"(?i:nama|bernama)"
    r"(?![ \t]+(?i:instansi|perusahaan|sekolah|jalan|desa|kampung|perumahan"
    r"|aplikasi|toko|usaha|program|kegiatan|produk|bank|dinas|lembaga|yayasan|obat|barang|kelompok)\b)"
    r"(?:[ \t]+[A-Za-z]+){0,3}[ \t]*[:=][ \t]*)(?P<value>[^\n\r;|]{1,80})")
_PERSON_LABEL = re.compile(
    r"(?P<label>" + _AT_LABEL + r"(?i:korban|pelapor|terlapor|pemohon|saksi|suami|istri|isteri|ayah|ibu|anak"
    r"|orang[ \t]+tua|wali|penerima|kuasa|ahli[ \t]+waris|almarhum|almarhumah|alm\.)[ \t]*:[ \t]*)"
    r"(?P<value>(?=[A-Z])[^\n\r;|]{1,80})")
_NAME_PHRASE = re.compile(
    r"(?P<label>\b(?i:nama[ \t]+saya(?:[ \t]+adalah)?|saya[ \t]+adalah|nama[ \t]+ku|saya[ \t]+bernama|bernama"
    r"|atas[ \t]+nama|dengan[ \t]+nama"
    r"|a\.[ \t]?n\.|a/n|nama|(?:hormat|salam)[ \t]+(?:saya|kami|pemohon|pelapor)[ \t]*,?|ttd\.?"
    r"|bapak|bpk\.?|bp\.?|pak|ibu|bu|sdr\.?|sdri\.?|saudara|saudari)(?![A-Za-z])[ \t]*:?[ \t]*)"
    r"(?P<value>" + _CAP_RUN + r")")
_NAME_PHRASE_LOWER = re.compile(
    r"(?P<label>\b(?i:nama[ \t]+saya(?:[ \t]+adalah)?|saya[ \t]+bernama|yang[ \t]+bernama|yg[ \t]+bernama)[ \t]+)"
    r"(?P<value>(?!adalah\b)[a-z]+(?:[ \t]+(?!"
    r"(?:dan|yang|warga|dari|beralamat|tinggal|ingin|mau|selaku|sebagai|adalah|dengan|nik|umur|usia|no|alias)\b)"
    r"[a-z]+){0,2})")
# "Saya Budi Santoso, NIK …", "ibu saya Wati.", "Saya Dewi dari …": a name right after "saya"
_SAYA_NAME = re.compile(r"(?P<label>\b(?i:saya|sy)[ \t]+)"
                        r"(?P<value>" + _CAP_WORD + r"(?:[ \t]+" + _CAP_WORD + r"){0,3})")
# "saya indah fauzi, nik …": a lower-case name is recognisable only by the identity detail right after it
_SAYA_NAME_LOWER = re.compile(
    r"(?P<label>\b(?i:saya|sy|aku)[ \t]+)(?P<value>[a-z]+(?:[ \t]+[a-z]+){0,3})\b"
    r"(?=[ \t]*[,(][ \t]*(?i:nik|ktp|no\.?[ \t]*(?:hp|wa|telp|ktp)|hp|wa|umur|usia)\b"
    r"|[ \t]*,?[ \t]*(?i:yang|yg)[ \t]+(?i:beralamat|berdomisili|bertempat|tinggal)\b)")
# "… dengan Budi Santoso NIK 3578…": a capitalised run right before an identity number label
_NAME_BEFORE_ID = re.compile(r"(?<![A-Za-z'`.\-])(?P<value>" + _CAP_WORD + r"(?:[ \t]+" + _CAP_WORD + r"){0,3})"
                             r"(?=[ \t]*,?[ \t]*\(?(?:NIK|N\.I\.K|NIP)\b)")

# --- addresses ------------------------------------------------------------------------------------
_STREET = r"(?:Jl|Jln|JL|JLN|jl|jln|Jalan|JALAN|Gg|GG|gg|Gang|GANG)"
_STREET_NAME = r"(?:[ \t]+(?:[A-Z0-9][\w'\-/]*\.?|[IVX]+))"
_PLACE_START = (r"(?i:kp|kmp|kampung|jl|jln|jalan|gg|gang|dusun|dsn|perum|perumahan|komplek|kompleks|komp|cluster"
                r"|blok|blk|rt|rw|asrama|apartemen|kost|kos)\b")
# a street with a house number: "Jl. Melati No. 12", "jalan kenanga 3 no 5/7"
_HOUSE_PLACE = (r"(?i:jl|jln|jalan|gg|gang|blok|blk|desa|ds|kp|kmp|kampung|dusun|dsn|komplek|kompleks|komp|perum"
                r"|perumahan|cluster|regency|residence|residen|griya|graha|villa|asrama)")
_HOUSE_NUMBER = re.compile(
    r"(?:\b|(?<=[a-z])(?=[A-Z])|(?<=[a-z])(?=(?i:jln?)\.))" + _HOUSE_PLACE
    + r"\b\.?(?:[ \t]*[\w'\-/]+\.?(?:[ \t]+[\w'\-/]+\.?){0,5}?)?,?[ \t]*"
    r"(?i:no|nomor|nmr)\b\.?[ \t]*:?[ \t]*\d+[A-Za-z]?(?:[ \t]*[/\-][ \t]*\d+[A-Za-z]?)?"
    r"(?![ \t]*(?i:tahun|thn|th)\b)")  # "Peraturan Desa Nomor 5 Tahun 2019" is a regulation
_ALLEY = re.compile(r"\b(?:Gg|GG|gg|Gang|GANG)\.?" + _STREET_NAME + r"{1,4}"
                    r"|\b(?i:gg)\b\.?[ \t]*[a-z][\w'\-]*")  # "gg" is only ever an alley: "gg kenari"
# "Kp. Melati RT 02 RW 05", "RT.02/RW.03", "Rt02/03", "RT/RW 003/005", "RT.  : 003RW.  : 005"
_RT_RW = re.compile(
    r"(?:(?:\b(?i:kp|kmp|kampung|jl|jln|jalan|gg|gang|dusun|dsn|perum|perumahan|komplek|komp|blok|blk)\.?"
    r"(?:[ \t]*(?!(?i:di|ke|dan|yang|rusak|desa|kel|kec)\b)[A-Za-z0-9][\w'\-]*\.?){1,3}[ \t]*,?[ \t]*)?"
    r"(?:\b(?i:rt)[ \t]*/[ \t]*(?i:rw)\.?[ \t]*:?[ \t]*\d{1,3}[ \t]*/[ \t]*\d{1,3}(?!\d)"
    r"|(?<![A-Za-z])(?:RT|Rt|rt)\.?[ \t]*:?[ \t]*0*\d{1,3}(?:[ \t]*[/,.\-]?[ \t]*(?:(?:RW|Rw|rw)\.?[ \t]*:?[ \t]*)?"
    r"0*\d{1,3})?(?!\d)))"
    r"|(?<![A-Za-z])(?:RW|Rw|rw)\.?[ \t]*:?[ \t]*0*\d{1,3}(?!\d)")
_ADDRESS_LABEL = re.compile(
    r"(?P<label>(?:" + _AT_LABEL + r"(?i:alamat)(?:[ \t]+(?!(?i:email|e-mail|surel|web|website|url|ip)\b)[A-Za-z]+)"
    r"{0,2}[ \t]*(?:[:=]|(?i:di)\b|\.?(?=[ \t]*" + _PLACE_START + r"))"
    r"|\b(?i:beralamat|berdomisili)[ \t]+(?:(?i:di)[ \t]+)?"
    r"|\b(?i:tinggal|bertempat[ \t]+tinggal)[ \t]+(?i:di)[ \t]+(?=" + _PLACE_START + r"))"
    r"[ \t]*)(?P<value>[^\n\r;|]{1,120}[^\s;|]*)")
# where an address value ends: a full stop closing a sentence (not "Jl." or "No."), or the next label
_ADDRESS_END = re.compile(
    r"(?<!\bJl)(?<!\bJln)(?<!\bGg)(?<!\bNo)(?<!\bKp)(?<!\bKel)(?<!\bKec)(?<!\bDs)(?<!\bDsn)(?<!\bRt)(?<!\bRw)"
    r"(?<!\bRT)(?<!\bRW)(?<!\dRT)(?<!\dRW)(?<!\bJL)(?<!\bNO)(?<!\bKab)(?<!\bProv)(?<!\bBlok)(?<!\bkp)(?<!\bds)"
    r"(?<!\bjl)(?<!\bkec)"
    r"(?<!\bkel)(?<!\bkab)\.(?:\s|$|(?=[A-Z][a-z]))"
    r"|(?<=[a-z])(?=[A-Z][a-z]+[ \t]*:)"  # a label glued on: "…Kab BandungStatus : …"
    r"|(?=(?:NIK|N\.I\.K|No\.?\s*HP|No\.?\s*Hp|No\.?\s*WA|No\.?\s*Telp|HP|Telp|TELP|Telepon|WA\b|Email|EMAIL"
    r"|E-mail|Nama|NAMA|Pekerjaan|PEKERJAAN|Umur|Usia|TTL|Status|STATUS)\b)")


def _has_digits(text: str, low: int, high: int) -> bool:
    return low <= sum(ch.isdigit() for ch in text) <= high


def _mobile_digits(number: str) -> int | None:
    """Digits after the 0 / 62 prefix, if the number reads as an Indonesian mobile number."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("62"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if digits.startswith("0"):  # "+62 (0) 812…"
        digits = digits[1:]
    return len(digits) if digits.startswith("8") else None


def _after_amount(text: str, start: int) -> bool:
    return bool(_AMOUNT_BEFORE.search(text[max(0, start - 6):start]))


def _mask_phones(text: str) -> str:
    out, last = [], 0
    for match in _PHONE.finditer(text):
        candidate = match.group(0)
        if _after_amount(text, match.start()):
            continue
        # the longest leading part (whole digit groups) that is a plausible mobile number
        groups = list(re.finditer(r"\d+", candidate))
        chosen = None
        for end in range(len(groups), 0, -1):
            piece = candidate[:groups[end - 1].end()]
            length = _mobile_digits(piece)
            if length is not None and 9 <= length <= 12:
                chosen = piece
                break
        if chosen is None:
            continue
        out.append(text[last:match.start()])
        out.append(PHONE)
        last = match.start() + len(chosen)
    out.append(text[last:])
    return "".join(out)


def _mask_labelled_phones(text: str) -> str:
    def replace(match: re.Match) -> str:
        number = match.group("number")
        if not _has_digits(number, 7, 15) or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", number):
            return match.group(0)  # too short or long for a phone, or an amount such as 1.500.000
        return match.group("label") + PHONE
    return _PHONE_LABELLED.sub(replace, text)


def _mask_grouped_nik(text: str) -> str:
    def replace(match: re.Match) -> str:
        value = match.group(0)
        if sum(ch.isdigit() for ch in value) != 16 or _after_amount(text, match.start()):
            return value
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", value):  # 1.234.567.890.123.456 is an amount
            return value
        return NIK
    return _NIK_GROUPED.sub(replace, text)


def _mask_long_grouped(text: str) -> str:
    def replace(match: re.Match) -> str:
        value = match.group(0)
        if sum(ch.isdigit() for ch in value) < 15 or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", value):
            return value  # too short to point at anyone, or an amount such as 1.234.567.890.123.456
        return NUMBER
    return _LONG_GROUPED.sub(replace, text)


_GENERIC_LABEL = re.compile(r"(?<![A-Za-z])[A-Z](?:[a-z]+|[A-Z]+)[ \t]*:")
_GLUED_LABEL = re.compile(r"(?:(?<=[a-z\]])|(?<=\s))" + _NEXT_LABEL)
_SENTENCE_END = re.compile(r"(?<=[A-Za-z]{4})\.(?:\s|$)")  # "Santoso." ends; "Moh." or "M." does not
_ANY_CASE_LABEL = re.compile(r"(?i:alamat|nik|nisn|nip|ttl|tempat|tanggal|tgl|pekerjaan|umur|usia|agama|telp|hp"
                             r"|email|status|jabatan|kelas|sekolah|desa|kec|kel)[ \t.]*:")


def _mask_name_value(match: re.Match) -> str:
    """'Nama : Budi Santoso  NIK : …' -> 'Nama : [nama]  NIK : …': the value ends at the next label."""
    value = match.group("value")
    end = len(value)
    for stop in (_GLUED_LABEL.search(value, 1), _GENERIC_LABEL.search(value, 1), re.search(r"\s{2,}|\t", value),
                 re.search(r"[,(]", value), _SENTENCE_END.search(value), _ANY_CASE_LABEL.search(value, 1)):
        if stop and stop.start() > 0:
            end = min(end, stop.start())
    name, rest = value[:end], value[end:]
    stripped = name.rstrip()
    if not stripped.strip() or stripped.lstrip().startswith("["):
        return match.group(0)
    return match.group("label") + NAME + name[len(stripped):] + rest


def _mask_address_value(match: re.Match) -> str:
    value = match.group("value")
    if value.lstrip().startswith(MARKERS):  # already masked
        return match.group(0)
    end = _ADDRESS_END.search(value, 1)
    cut = end.start() if end else len(value)
    address, rest = value[:cut], value[cut:]
    stripped = address.rstrip(" \t,")
    if not stripped:
        return match.group(0)
    return match.group("label") + ADDRESS + address[len(stripped):] + rest


def _mask_run(match: re.Match) -> str:
    """A capitalised run that reads as a name, unless it starts with an ordinary word ('Saya Mohon …')
    or is itself a label ('Nama Sekolah : …')."""
    value = re.sub(r"^" + _HONORIFIC + r"+", "", match.group("value"))
    words = [w.strip(".,").lower() for w in value.split()]
    if not words or words[0] in _NOT_NAMES:
        return match.group(0)
    if re.match(r"[ \t]*[:=]", match.string[match.end():]):
        return match.group(0)
    label = match.groupdict().get("label") or ""
    return label + NAME


# what may follow a masked name without being part of it
_NOT_NAME_TAIL = _NOT_NAMES | frozenset(
    "tersebut saja juga lagi nya pun tadi sendiri dll dsb kab kec kel ds kp rsud sd smp sma smk universitas kampus "
    "alias dan atau yg serta bin binti".split())
_NAME_TAIL = re.compile(
    r"\[nama\](?:(?P<alias>[ \t]+(?i:alias|als\.?)[ \t]+)(?P<other>[A-Za-z][\w'`.\-]*(?:[ \t]+[A-Z][\w'`\-]*)?)"
    r"|(?P<caps>(?:[ \t]+[A-Z][a-z'`\-]*[a-z]){1,2})(?![ \t]*[:=])(?![A-Za-z])"
    r"|(?P<lower>[ \t]+[a-z]{3,})(?=[ \t]*[,(]))")


def _mask_name_tail(match: re.Match) -> str:
    """'[nama] Suherman' (a surname the name rule stopped before), '[nama] sunarya, …', '[nama] alias Emeh'."""
    if match.group("alias"):
        return NAME + match.group("alias") + NAME
    tail = match.group("caps") or match.group("lower")
    words = tail.split()
    names = 0
    while names < len(words) and words[names].lower() not in _NOT_NAME_TAIL:
        names += 1
    if not names:
        return match.group(0)
    return NAME + "".join(" " + word for word in words[names:])


def _merge_markers(text: str) -> str:
    """'[alamat] [alamat]' or '[alamat], [alamat]' -> '[alamat]'."""
    for marker in (ADDRESS, NAME):
        text = re.sub(re.escape(marker) + r"(?:[ \t]*[,/]?[ \t]*" + re.escape(marker) + r")+", marker, text)
    return text


def mask_pii(text: str | None) -> str:
    """The text with personal data replaced by markers ("[NIK]", "[telepon]", "[email]", "[nama]", "[alamat]")."""
    if text is None:
        return ""
    text = str(text)
    if not text:
        return text
    # links first: a Maps link holds coordinates, a WhatsApp link a phone number
    text = _MAPS_URL.sub(ADDRESS, text)
    text = _WHATSAPP_URL.sub(PHONE, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _EMAIL_SPELLED.sub(EMAIL, text)
    # identity numbers before phones: a NIK may contain "08…" inside
    text = _LABELLED_ID.sub(lambda m: m.group("label") + (NIP if m.group("label").upper().startswith("NIP") else NIK),
                            text)
    text = _NIP.sub(NIP, text)
    text = _NIK_RUN.sub(NIK, text)
    text = _OTHER_ID.sub(lambda m: m.group("label") + NUMBER, text)
    text = _mask_phones(text)
    text = _mask_labelled_phones(text)
    text = _mask_grouped_nik(text)
    text = _mask_long_grouped(text)
    text = _LONG_RUN.sub(NUMBER, text)
    text = _COORDINATES.sub(ADDRESS, text)
    # names
    text = _NAME_LABEL.sub(_mask_name_value, text)
    text = _PERSON_LABEL.sub(_mask_name_value, text)
    text = _NAME_PHRASE.sub(_mask_run, text)
    text = _NAME_PHRASE_LOWER.sub(lambda m: m.group("label") + NAME, text)
    text = _SAYA_NAME.sub(_mask_run, text)
    text = _SAYA_NAME_LOWER.sub(_mask_run, text)
    text = _NAME_BEFORE_ID.sub(_mask_run, text)
    text = _NAME_TAIL.sub(_mask_name_tail, text)
    # addresses
    text = _ADDRESS_LABEL.sub(_mask_address_value, text)
    text = _HOUSE_NUMBER.sub(ADDRESS, text)
    text = _ALLEY.sub(ADDRESS, text)
    text = _RT_RW.sub(ADDRESS, text)
    return _merge_markers(text)


# --- markup ---------------------------------------------------------------------------------------
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SCHEME = re.compile(r"\b(javascript|vbscript|livescript)(\s*):|\b(data)(\s*):(?=\s*[a-z]+/[a-z0-9.+\-]+[;,])",
                     re.IGNORECASE)


def neutralise_markup(text: str) -> str:
    """Make text inert wherever it is shown: HTML tags, Markdown links and images, script URLs.

    The result reads the same to a person ("‹script›" for "<script>") but neither an HTML nor a Markdown
    renderer can turn it into an element, a link or an image.
    """
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)  # zero-width and bidi-override characters that disguise text
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = text.replace("<", "‹").replace(">", "›")  # no tag, comment or autolink can open
    text = _SCHEME.sub(lambda m: f"{m.group(1) or m.group(3)}{m.group(2) or m.group(4) or ''}∶", text)  # ratio sign
    text = text.replace("](", "] (")  # [label](url) and ![alt](src) are no longer links or images
    text = re.sub(r"^(\s*\[[^\]\n]*\])\s*:", r"\1 ∶", text, flags=re.MULTILINE)  # reference definitions
    return text


def safe_text(text: str | None) -> str:
    """Complaint text ready to show: personal data masked, then markup neutralised. Show it as text."""
    return neutralise_markup(mask_pii(text))


_MARKDOWN_SPECIALS = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-=.!|~:$"})


_WORD_JOINER = "\u2060"  # invisible; splits what Streamlit would still turn into an icon or a link
_SHORTCODE = re.compile(r":(?=[\w+\-]+(?:/[\w\-]+)?:)")  # ":material/home:", ":smile:", ":+1:"
_BARE_LINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?<=ftp)(?=:)|(?=@)")


def markdown_literal(text) -> str:
    """Text for st.markdown, st.caption, st.subheader or a message box that shows exactly as written: every
    Markdown character escaped, so no emphasis, heading, link, image, ':red[…]' directive or $LaTeX$; and an
    invisible word joiner inside ':icon:' shortcodes and bare 'http://…', 'www.…' or e-mail links, which
    Streamlit would otherwise still turn into icons and links."""
    text = _BARE_LINK.sub(_WORD_JOINER, _SHORTCODE.sub(":" + _WORD_JOINER, str(text)))
    return text.translate(_MARKDOWN_SPECIALS)


def safe_markdown(text: str | None) -> str:
    """Untrusted text (an error quoting a source, a quarantine reason) for a Markdown element: masked, literal."""
    return markdown_literal(safe_text(text))
