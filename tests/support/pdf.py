"""Checks of the PDFs the house writes: every font embedded (as a subset)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

HOUSE_FONTS = {"BitstreamVeraSans-Roman", "BitstreamVeraSans-Bold", "WenQuanYiMicroHei-0"}


def embedded_fonts(content: bytes) -> set[str]:
    """The fonts a PDF names; fails unless each is an embedded subset (``ABCDEF+Name`` with a
    ``/FontFile2`` program), checked in the bytes and, where poppler is installed, by
    ``pdffonts``."""
    names = re.findall(rb"/BaseFont /([^\s/>]+)", content)
    assert names, "no fonts in the PDF"
    plain = [n.decode() for n in names if not re.match(rb"[A-Z]{6}\+", n)]
    assert not plain, f"fonts named without an embedded subset: {plain}"
    assert content.count(b"/FontFile2") == len(set(names)), "a font without its program"
    if shutil.which("pdffonts"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.pdf"
            path.write_bytes(content)
            out = subprocess.run(
                ["pdffonts", str(path)], capture_output=True, text=True, check=True
            ).stdout
        for row in [line.split() for line in out.splitlines()[2:] if line.strip()]:
            assert (row[-5], row[-4]) == ("yes", "yes"), out  # emb, sub
    return {n.decode().split("+", 1)[1] for n in names}
