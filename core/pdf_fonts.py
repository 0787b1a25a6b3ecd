"""The fonts of every PDF the house writes (GHG inventory, disclosure, product footprint).

Two TrueType faces, both embedded as subsets so a printed or archived report looks the same
on every machine:

* Latin: Bitstream Vera Sans (regular and bold), the TrueType fonts shipped inside reportlab
  (Bitstream Vera licence: free to embed and redistribute);
* CJK: WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 or GPL-3.0 with the font embedding
  exception), from the ``paperang-p2-fonts-cjk`` wheel, a dependency: never a system font.

Text is set in the Latin face; :func:`markup` gives every run of characters the Latin face
lacks (Chinese, ₂, →) to the CJK face, so mixed text keeps proper Latin spacing.
Registration happens on first use, never at import.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

LATIN = "EccLatin"
LATIN_BOLD = "EccLatin-Bold"
CJK = "EccCJK"


def _vera(name: str) -> str:
    import reportlab

    return str(Path(reportlab.__file__).parent / "fonts" / name)


def cjk_font_file() -> str:
    """Path of the CJK TrueType collection shipped by the ``paperang-p2-fonts-cjk`` wheel."""
    return str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")


@cache
def register() -> frozenset[int]:
    """Register the three faces with reportlab (once); the code points of the Latin face."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    latin = TTFont(LATIN, _vera("Vera.ttf"))
    pdfmetrics.registerFont(latin)
    pdfmetrics.registerFont(TTFont(LATIN_BOLD, _vera("VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont(CJK, cjk_font_file(), subfontIndex=0))
    for bold, italic, face in (
        (0, 0, LATIN),
        (1, 0, LATIN_BOLD),
        (0, 1, LATIN),
        (1, 1, LATIN_BOLD),
    ):
        addMapping(LATIN, bold, italic, face)
    for bold in (0, 1):  # Micro Hei has one weight
        for italic in (0, 1):
            addMapping(CJK, bold, italic, CJK)
    return frozenset(latin.face.charToGlyph)


def markup(text: object) -> str:
    """``text`` escaped for a reportlab Paragraph (user text is never markup), with the runs
    the Latin face cannot draw wrapped in the CJK face."""
    latin = register()
    out: list[str] = []
    run: list[str] = []
    run_cjk = False
    for ch in str(text):
        cjk = ord(ch) not in latin and not ch.isspace()
        if run and cjk != run_cjk:
            out.append(_run("".join(run), run_cjk))
            run = []
        run_cjk = cjk
        run.append(ch)
    if run:
        out.append(_run("".join(run), run_cjk))
    return "".join(out)


def _run(text: str, cjk: bool) -> str:
    body = escape(text)
    return f'<font name="{CJK}">{body}</font>' if cjk else body


def document_options() -> dict[str, Any]:
    """Keyword arguments of a reportlab DocTemplate: the canvas starts in the Latin face (not
    Helvetica, which a PDF names without embedding it), and the file's bytes depend only on
    its content."""
    register()
    return {"initialFontName": LATIN, "invariant": True}


def styles() -> dict[str, Any]:
    """Paragraph styles ``title``, ``head``, ``body`` and ``warn`` in the house faces."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    register()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("ecc-title", parent=base["Title"], fontName=LATIN_BOLD),
        "head": ParagraphStyle(
            "ecc-head", parent=base["Heading2"], fontName=LATIN_BOLD, fontSize=12, leading=15
        ),
        "body": ParagraphStyle(
            "ecc-body", parent=base["BodyText"], fontName=LATIN, fontSize=8, leading=10.5
        ),
        "warn": ParagraphStyle(
            "ecc-warn",
            parent=base["BodyText"],
            fontName=LATIN_BOLD,
            fontSize=9,
            leading=12,
            textColor="#8a1c00",
            backColor="#fff1e0",
            borderColor="#d9822b",
            borderWidth=0.75,
            borderPadding=4,
            spaceBefore=4,
            spaceAfter=8,
        ),
    }


def paragraph(text: object, style: Any) -> Any:
    """A reportlab Paragraph of ``text`` (escaped, faces given by :func:`markup`)."""
    from reportlab.platypus import Paragraph

    return Paragraph(markup(text), style)


def table(
    rows: list[list],
    style: Any,
    widths: list[float] | None = None,
    *,
    header: bool = True,
    **kw: Any,
) -> Any:
    """A grid of paragraphs in ``style``; with ``header`` the first row is shaded and repeated
    on each page. Cells are set in the house faces (a reportlab Table otherwise names
    Helvetica, which is not embedded)."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[paragraph("" if c is None else c, style) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0, **kw)
    commands: list = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), LATIN),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey))
    t.setStyle(TableStyle(commands))
    return t
