"""Print a Scorecard as an A4 PDF (reportlab): title block, key figures, charts, ranking, overdue list, notes."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from xml.sax.saxutils import escape

from reports import charts
from reports.scorecard import Scorecard, Section
from reports.text import fmt_date, fmt_days, fmt_hours, fmt_int, fmt_pct, month_label, word, zone_label

NAVY = colors.HexColor(charts.NAVY)
ORANGE = colors.HexColor(charts.ORANGE)
GREEN = colors.HexColor("#2e7d4f")
RED = colors.HexColor("#b03a2e")
MUTED = colors.HexColor("#5b6675")
LINE = colors.HexColor("#d5dbe3")
ZEBRA = colors.HexColor("#f3f5f8")
HIGHLIGHT = colors.HexColor("#fdf0e1")
PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN_X
FONT_CANDIDATES = [
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
]


def _fonts() -> tuple[str, str]:
    """A TrueType sans (Liberation, else DejaVu) embedded in the PDF; Helvetica when neither is installed."""
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).exists() and Path(bold).exists():
            if "SigapSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("SigapSans", regular))
                pdfmetrics.registerFont(TTFont("SigapSans-Bold", bold))
            return "SigapSans", "SigapSans-Bold"
    return "Helvetica", "Helvetica-Bold"


FONT, BOLD = _fonts()


def _style(name: str, **kwargs) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 9.5, "leading": 13, "textColor": colors.HexColor("#222222")}
    return ParagraphStyle(name, **{**base, **kwargs})


STYLES = {
    "kicker": _style("kicker", fontName=BOLD, fontSize=8.5, textColor=MUTED, leading=11),
    "title": _style("title", fontName=BOLD, fontSize=20, leading=24, textColor=NAVY, spaceBefore=2),
    "subtitle": _style("subtitle", fontSize=12, leading=16, textColor=colors.HexColor("#333333")),
    "h2": _style("h2", fontName=BOLD, fontSize=12.5, leading=16, textColor=NAVY, spaceBefore=10, spaceAfter=4),
    "caption": _style("caption", fontSize=8, leading=10.5, textColor=MUTED, spaceBefore=2, spaceAfter=2),
    "body": _style("body"),
    "small": _style("small", fontSize=8, leading=10.5),
    "cell": _style("cell", fontSize=8, leading=10),
    "cell_id": _style("cell_id", fontSize=7.2, leading=9),
    "cell_r": _style("cell_r", fontSize=8, leading=10, alignment=TA_RIGHT),
    "head": _style("head", fontName=BOLD, fontSize=8, leading=10, textColor=colors.white),
    "head_r": _style("head_r", fontName=BOLD, fontSize=8, leading=10, textColor=colors.white, alignment=TA_RIGHT),
    "tile_label": _style("tile_label", fontSize=8, leading=10, textColor=MUTED),
    "tile_value": _style("tile_value", fontName=BOLD, fontSize=17, leading=21, textColor=NAVY),
    "tile_delta": _style("tile_delta", fontSize=7.5, leading=9.5, textColor=MUTED),
    "standing": _style("standing", fontName=BOLD, fontSize=11, leading=14, textColor=NAVY, alignment=TA_LEFT),
}


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(str(text)), STYLES[style])


# --- page furniture -----------------------------------------------------------------------------------------

class _NumberedCanvas(pdf_canvas.Canvas):
    """Draws 'Page x of y' once the total is known (pages are kept until save)."""

    footer_left = ""
    page_word = ("Halaman {page} dari {pages}", "")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        self.setStrokeColor(LINE)
        self.setLineWidth(0.6)
        self.line(MARGIN_X, 14 * mm, PAGE_W - MARGIN_X, 14 * mm)
        self.setFont(FONT, 7.5)
        self.setFillColor(MUTED)
        self.drawString(MARGIN_X, 10 * mm, self.footer_left)
        self.drawRightString(PAGE_W - MARGIN_X, 10 * mm, self.page_word.format(page=self._pageNumber, pages=total))


def _canvas_class(scorecard: Scorecard):
    lang, tz = scorecard.lang, scorecard.region.timezone
    when = f"{fmt_date(scorecard.generated_at, lang, tz, with_time=True)} {zone_label(tz).split()[0]}"
    left = f"{word('generated', lang, when=when)} · {word('no_personal_data', lang)}"
    return type("ScorecardCanvas", (_NumberedCanvas,), {"footer_left": left, "page_word": word("page", lang)})


def _header(scorecard: Scorecard):
    text = (f"{word('government', scorecard.lang, region=scorecard.region.display_name.upper())}  ·  "
            f"{word('title', scorecard.lang)}  ·  {month_label(scorecard.month, scorecard.lang)}")

    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFillColor(NAVY)
        canvas.rect(0, PAGE_H - 6 * mm, PAGE_W, 6 * mm, stroke=0, fill=1)
        canvas.setFillColor(ORANGE)
        canvas.rect(0, PAGE_H - 7 * mm, PAGE_W, 1 * mm, stroke=0, fill=1)
        if doc.page > 1:
            canvas.setFont(FONT, 7.5)
            canvas.setFillColor(MUTED)
            canvas.drawString(MARGIN_X, PAGE_H - 13 * mm, text)
        canvas.restoreState()
    return draw


# --- building blocks ---------------------------------------------------------------------------------------

def _image(png: bytes, max_width: float = CONTENT_W) -> Image:
    """A chart at one common scale (a chart WIDTH pixels wide fills the text width), so fonts match."""
    reader = ImageReader(io.BytesIO(png))
    w, h = reader.getSize()
    width = min(max_width, w / charts.SCALE * CONTENT_W / charts.WIDTH)
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _table(rows: list[list], widths: list[float], right: set[int] = frozenset(), highlight: set[int] = frozenset(),
           header_color=NAVY) -> Table:
    """A report table: navy header, zebra rows, hairlines; `highlight` row indexes (1-based, after the header)."""
    cells = [[_cell(v, i in right, head=True) for i, v in enumerate(rows[0])]]
    cells += [[_cell(v, i in right) for i, v in enumerate(row)] for row in rows[1:]]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), header_color),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), ZEBRA) for r in range(2, len(rows), 2)]
    style += [("BACKGROUND", (0, r), (-1, r), HIGHLIGHT) for r in highlight]
    style += [("FONTNAME", (0, r), (-1, r), BOLD) for r in highlight]
    table.setStyle(TableStyle(style))
    return table


def _cell(value, right: bool, head: bool = False) -> Paragraph:
    if isinstance(value, Paragraph):
        return value
    name = ("head" if head else "cell") + ("_r" if right else "")
    return Paragraph(escape(str(value)), STYLES[name])


def _delta(current, previous, lang: str, kind: str, lower_is_better: bool = False) -> tuple[str, colors.Color]:
    """'+12', '−3,1 poin', '±0 menit' and a colour: green when better, red when worse, grey for volumes."""
    if current is None or previous is None:
        return "–", MUTED
    change = current - previous
    if kind == "pct":
        magnitude = f"{fmt_pct(abs(change), lang).rstrip('%')} {'poin' if lang == 'id' else 'pts'}"
    elif kind == "hours":
        magnitude = fmt_hours(abs(change), lang)
    else:
        magnitude = fmt_int(abs(change), lang)
    if not re.search(r"[1-9]", magnitude):  # rounds to nothing: no sign, no colour
        return f"±{magnitude}", MUTED
    text = f"{'+' if change > 0 else '−'}{magnitude}"
    if kind == "count":
        return text, MUTED
    better = change < 0 if lower_is_better else change > 0
    return text, GREEN if better else RED


def _indicators(section: Section) -> list[tuple]:
    """(word key, current, previous, city, format, lower is better)."""
    c, p = section.current, section.previous
    city = section.standing.city if section.standing else None

    def of(headline, name):
        return None if headline is None else getattr(headline, name)
    return [
        ("received", c.received, p.received, of(city, "received"), "count", False),
        ("resolved", c.resolved, p.resolved, of(city, "resolved"), "count", False),
        ("resolution_rate", c.resolution_rate, p.resolution_rate, of(city, "resolution_rate"), "pct", False),
        ("resolution_sla", c.resolution_sla, p.resolution_sla, of(city, "resolution_sla"), "pct", False),
        ("response_sla", c.response_sla, p.response_sla, of(city, "response_sla"), "pct", False),
        ("median_response", c.response_median_h, p.response_median_h, of(city, "response_median_h"), "hours", True),
        ("p90_response", c.response_p90_h, p.response_p90_h, of(city, "response_p90_h"), "hours", True),
        ("median_resolution", c.resolution_median_h, p.resolution_median_h, of(city, "resolution_median_h"),
         "hours", True),
    ]


def _fmt(value, kind: str, lang: str) -> str:
    return {"count": fmt_int, "pct": fmt_pct, "hours": fmt_hours}[kind](value, lang)


def _tiles(section: Section, scorecard: Scorecard) -> Table:
    lang = scorecard.lang
    previous = month_label(scorecard.previous_month, lang).split()[0][:3]
    chosen = {"received", "resolution_rate", "resolution_sla", "median_response"}
    tiles = []
    for key, current, before, _, kind, lower in _indicators(section):
        if key not in chosen:
            continue
        text, colour = _delta(current, before, lang, kind, lower)
        delta_style = ParagraphStyle("d", parent=STYLES["tile_delta"], textColor=colour)
        tiles.append([_p(word(key, lang), "tile_label"), _p(_fmt(current, kind, lang), "tile_value"),
                      Paragraph(escape(f"{text} {word('vs_month', lang, month=previous)}"), delta_style)])
    overdue = [_p(word("overdue_now", lang), "tile_label"), _p(fmt_int(section.overdue_total, lang), "tile_value"),
               _p(" ", "tile_delta")]
    tiles.append(overdue)
    width = CONTENT_W / len(tiles)
    table = Table([tiles], colWidths=[width] * len(tiles), hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BOX", (i, 0), (i, 0), 0.6, LINE) for i in range(len(tiles))
    ] + [("LINEABOVE", (i, 0), (i, 0), 2.5, NAVY if i < len(tiles) - 1 else RED) for i in range(len(tiles))] + [
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6), ("LEFTPADDING", (0, 0), (-1, -1), 6),
    ]))
    return table


def _indicator_table(section: Section, scorecard: Scorecard) -> Table:
    lang = scorecard.lang
    agency = section.standing is not None
    header = [word("indicator", lang), month_label(scorecard.month, lang), month_label(scorecard.previous_month, lang),
              word("change", lang)] + ([f"{word('city', lang)} · {month_label(scorecard.month, lang)}"] if agency else [])
    rows = [header]
    for key, current, before, city, kind, lower in _indicators(section):
        text, colour = _delta(current, before, lang, kind, lower)
        change = Paragraph(escape(text), ParagraphStyle("c", parent=STYLES["cell_r"], textColor=colour))
        row = [word(key, lang), _fmt(current, kind, lang), _fmt(before, kind, lang), change]
        rows.append(row + ([_fmt(city, kind, lang)] if agency else []))
    widths = [62 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm] if agency else [74 * mm, 33 * mm, 33 * mm, 34 * mm]
    return _table(rows, widths, right={1, 2, 3, 4})


def _title_block(section: Section, scorecard: Scorecard) -> list:
    lang = scorecard.lang
    region = scorecard.region.display_name.upper()
    who = section.title if section.agency_code else word("all_agencies", lang)
    period = f"{word('period', lang)}: {fmt_date(scorecard.month_start, lang, short=False)} – " \
             f"{fmt_date(scorecard.month_end, lang, short=False)}"
    flow = [_p(word("government", lang, region=region), "kicker"), _p(word("title", lang), "title"),
            _p(f"{month_label(scorecard.month, lang)} · {who}", "subtitle"), _p(period, "caption"), Spacer(1, 4)]
    if section.standing is not None:
        flow.append(_standing_box(section, scorecard))
    return flow


def _standing_box(section: Section, scorecard: Scorecard) -> Table:
    lang, standing = scorecard.lang, section.standing
    if standing.rank is None:
        text = word("not_ranked", lang)
    else:
        text = word("rank_of", lang, rank=standing.rank, of=standing.of)
    box = Table([[_p(text, "standing")]], colWidths=[CONTENT_W], hAlign="LEFT")
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), HIGHLIGHT), ("LINEBEFORE", (0, 0), (0, 0), 3, ORANGE),
                             ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                             ("LEFTPADDING", (0, 0), (-1, -1), 8)]))
    return box


def _ranking_table(scorecard: Scorecard, highlight: str | None) -> Table:
    lang = scorecard.lang
    rows = [["#", word("agency", lang), word("received", lang), word("resolved", lang), word("resolution_rate", lang),
             word("resolution_sla", lang), word("median_response", lang), word("overdue_now", lang)]]
    marked = set()
    for i, r in enumerate(scorecard.ranking.itertuples(), start=1):
        rows.append([r.rank, r.agency, fmt_int(r.received, lang), fmt_int(r.resolved, lang),
                     fmt_pct(_none(r.resolution_rate), lang), fmt_pct(_none(r.sla_compliance), lang),
                     fmt_hours(_none(r.median_response_h), lang), fmt_int(r.overdue_now, lang)])
        if r.agency_code == highlight:
            marked.add(i)
    widths = [8 * mm, 44 * mm, 18 * mm, 18 * mm, 22 * mm, 22 * mm, 21 * mm, 21 * mm]
    return _table(rows, widths, right={0, 2, 3, 4, 5, 6, 7}, highlight=marked)


def _none(value):
    return None if value is None or pd.isna(value) else value


def _top(frame: pd.DataFrame, names: dict, lang: str, n: int = 8) -> pd.DataFrame:
    top = frame.head(n).copy()
    top["label"] = [word("unknown", lang) if _none(code) is None else str(names.get(code, code)) for code in top["code"]]
    return top[["label", "count"]]


def _breakdowns(section: Section, scorecard: Scorecard) -> list:
    lang = scorecard.lang
    if section.categories.empty:
        return []
    districts = section.districts[section.districts["code"].notna()]
    unknown = int(section.districts.loc[section.districts["code"].isna(), "count"].sum())
    left = charts.bar_chart(_top(section.categories, scorecard.category_labels, lang), lang)
    half = CONTENT_W / 2 - 3 * mm
    right = [_image(charts.bar_chart(_top(districts, scorecard.district_names, lang), lang, color=charts.GREY),
                    half)] if not districts.empty else []
    if unknown:
        right.append(_p(word("unknown_district", lang, count=fmt_int(unknown, lang)), "caption"))
    grid = Table([[_p(word("categories", lang), "h2"), _p(word("districts", lang), "h2")],
                  [_image(left, half), right]], colWidths=[CONTENT_W / 2] * 2, hAlign="LEFT")
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [KeepTogether([grid])]


def _overdue_section(section: Section, scorecard: Scorecard) -> list:
    lang, tz = scorecard.lang, scorecard.region.timezone
    flow: list = [CondPageBreak(40 * mm), _p(word("overdue", lang), "h2")]
    if section.overdue.empty:
        return flow + [_p(word("none_overdue", lang))]
    note = word("overdue_note", lang, when=fmt_date(scorecard.generated_at, lang, tz),
                shown=fmt_int(len(section.overdue), lang), total=fmt_int(section.overdue_total, lang))
    rows = [[word("id", lang), word("channel", lang), word("category", lang), word("district", lang)]
            + ([] if section.agency_code else [word("agency", lang)])
            + [word("received_at", lang), word("due_at", lang), word("late_by", lang)]]
    for r in section.overdue.itertuples():
        row = [_ident(r.source_id, r.is_confidential, lang), scorecard.channel_label(r.channel), scorecard.category_labels.get(r.category, r.category or "–"),
               scorecard.district_names.get(r.district_code, "–")]
        row += [] if section.agency_code else [scorecard.agency_names.get(r.agency_code, r.agency_code or "–")]
        row += [fmt_date(r.received_at, lang, tz), fmt_date(r.due_at, lang, tz), fmt_days(r.overdue_days, lang)]
        rows.append(row)
    if section.agency_code:
        widths = [34 * mm, 22 * mm, 32 * mm, 24 * mm, 21 * mm, 21 * mm, 20 * mm]
    else:
        widths = [31 * mm, 22 * mm, 24 * mm, 21 * mm, 20 * mm, 19 * mm, 19 * mm, 18 * mm]
    return flow + [_table(rows, widths, right={len(rows[0]) - 1}), _p(note, "caption")]


def _ident(source_id: str, confidential: bool, lang: str) -> Paragraph:
    """A complaint number; long social-media ids break after their '_'."""
    text = "_<br/>".join(escape(part) for part in str(source_id).split("_"))
    if confidential:
        text += f" ({escape(word('confidential', lang))})"
    return Paragraph(text, STYLES["cell_id"])


def _section_flow(section: Section, scorecard: Scorecard) -> list:
    lang = scorecard.lang
    flow = _title_block(section, scorecard)
    flow += [Spacer(1, 8), _tiles(section, scorecard), Spacer(1, 4),
             _p(word("summary", lang), "h2"), _indicator_table(section, scorecard)]
    if section.current.received:
        flow += [KeepTogether([_p(word("trend", lang), "h2"), _image(charts.daily_chart(section.daily, lang), CONTENT_W)])]
    flow += [KeepTogether([_p(word("history", lang), "h2"),
                           _image(charts.history_chart(section.history, lang), CONTENT_W)])]
    # the league table once per document: in the city section, or in a single agency's scorecard
    if not scorecard.ranking.empty and (section.agency_code is None or len(scorecard.sections) == 1):
        flow += _ranking_flow(section, scorecard)
    flow += _breakdowns(section, scorecard)
    flow += _overdue_section(section, scorecard)
    return flow


def _ranking_flow(section: Section, scorecard: Scorecard) -> list:
    """The league table; an agency's own row is highlighted."""
    lang = scorecard.lang
    return [CondPageBreak(60 * mm), _p(word("ranking", lang), "h2"), _ranking_table(scorecard, section.agency_code),
            _p(word("ranking_note", lang), "caption")]


def render_pdf(scorecard: Scorecard) -> bytes:
    """The scorecard as PDF bytes."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=18 * mm,
                          bottomMargin=20 * mm, title=f"{word('title', scorecard.lang)} {scorecard.month}",
                          author="Sigap", subject=scorecard.region.display_name)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header(scorecard))])
    flow: list = []
    for i, section in enumerate(scorecard.sections):
        if i:
            flow.append(PageBreak())
        flow += _section_flow(section, scorecard)
    flow += [CondPageBreak(35 * mm), _p(word("method", scorecard.lang), "h2"),
             _p(word("method_text", scorecard.lang, zone=zone_label(scorecard.region.timezone)), "small")]
    doc.build(flow, canvasmaker=_canvas_class(scorecard))
    return buffer.getvalue()
