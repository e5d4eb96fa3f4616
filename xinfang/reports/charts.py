"""Charts for the Word reports, drawn as PNG with Pillow (already a dependency; no network, no
plotting library). Chinese labels need a CJK font: ``cjk_font`` looks for one in the setting
``XINFANG_CJK_FONT``, then in the usual places of Debian/Ubuntu, CentOS, macOS and Windows, then
asks fontconfig (``fc-list :lang=zh``, a local command). Without one the chart still draws, with
each label replaced by its number, and ``FontCheck.note`` says so, where it looked and how to fix
it — the report prints that note under the chart and keeps the names in the table beside it."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
PALETTE = ("#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6")


@dataclass(frozen=True)
class FontCheck:
    path: str | None
    looked: tuple[str, ...]

    @property
    def note(self) -> str:
        if self.path:
            return ""
        return ("本机未找到中文字体，图中以序号代替名称（名称见图下表格）。已查找：设置项 "
                "XINFANG_CJK_FONT、" + "、".join(self.looked) + "及 fc-list :lang=zh。"
                "安装 fonts-noto-cjk（或在 XINFANG_CJK_FONT 中指定字体文件）后重新生成即可。")


@lru_cache(maxsize=1)
def cjk_font() -> FontCheck:
    configured = getattr(settings, "XINFANG_CJK_FONT", "") or ""
    for path in ([configured] if configured else []) + list(CANDIDATES):
        if path and Path(path).is_file():
            return FontCheck(path, CANDIDATES)
    if shutil.which("fc-list"):
        try:
            found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True,
                                   text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            found = ""
        for line in found.splitlines():
            path = line.split(":", 1)[0].strip()
            if path and Path(path).is_file():
                return FontCheck(path, CANDIDATES)
    return FontCheck(None, CANDIDATES)


def _font(size: int):
    check = cjk_font()
    if check.path:
        return ImageFont.truetype(check.path, size)
    return ImageFont.load_default(size)


def _labels(labels: list[str]) -> list[str]:
    return labels if cjk_font().path else [str(i) for i in range(1, len(labels) + 1)]


def bar_chart(title: str, rows: list[tuple[str, float]], *, unit: str = "件",
              width: int = 1400) -> bytes:
    """Horizontal bars, largest first as given, one per (label, value); PNG bytes."""
    rows = rows[:20]
    labels = _labels([label for label, _v in rows])
    row_h, top, left, right = 44, 90, 300, 160
    height = top + row_h * max(len(rows), 1) + 40
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((24, 20), title if cjk_font().path else "", fill="black", font=_font(34))
    biggest = max((v for _l, v in rows), default=0) or 1
    plot = width - left - right
    font = _font(24)
    for i, ((_label, value), text) in enumerate(zip(rows, labels, strict=True)):
        y = top + i * row_h
        draw.text((left - 12, y + row_h / 2), text[:12], fill="black", font=font, anchor="rm")
        w = plot * value / biggest
        draw.rectangle((left, y + 8, left + max(w, 1), y + row_h - 8),
                       fill=PALETTE[i % len(PALETTE)])
        shown = f"{value:g}{unit}" if cjk_font().path else f"{value:g}"
        draw.text((left + w + 10, y + row_h / 2), shown, fill="black", font=font, anchor="lm")
    draw.line((left, top - 4, left, height - 36), fill="#666666", width=2)
    return _png(img)


def column_chart(title: str, rows: list[tuple[str, float]], *, width: int = 1400,
                 height: int = 620) -> bytes:
    """Vertical columns in the order given (a trend over time); PNG bytes."""
    labels = _labels([label for label, _v in rows])
    top, bottom, left, right = 90, 80, 80, 40
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((24, 20), title if cjk_font().path else "", fill="black", font=_font(34))
    biggest = max((v for _l, v in rows), default=0) or 1
    plot_h, plot_w = height - top - bottom, width - left - right
    step = plot_w / max(len(rows), 1)
    font = _font(22)
    base = height - bottom
    draw.line((left, base, width - right, base), fill="#666666", width=2)
    for i, ((_label, value), text) in enumerate(zip(rows, labels, strict=True)):
        x = left + i * step
        h = plot_h * value / biggest
        draw.rectangle((x + step * 0.2, base - h, x + step * 0.8, base), fill=PALETTE[0])
        draw.text((x + step / 2, base - h - 6), f"{value:g}", fill="black", font=font,
                  anchor="md")
        draw.text((x + step / 2, base + 10), text[:10], fill="black",
                  font=_fitting(draw, text[:10], step * 0.95, 22), anchor="ma")
    return _png(img)


def _fitting(draw: ImageDraw.ImageDraw, text: str, room: float, size: int):
    """The largest font up to ``size`` (down to 10) in which ``text`` fits ``room`` pixels."""
    while size > 10 and draw.textlength(text, font=_font(size)) > room:
        size -= 1
    return _font(size)


def _png(img: Image.Image) -> bytes:
    """The chart as PNG at zlib's default level: ``optimize`` (level 9 and a search of the
    filters) took 100 ms a chart for a file 2 % smaller — three charts were a third of a
    county's quarterly analysis (lead32)."""
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
