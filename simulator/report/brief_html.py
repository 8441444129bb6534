"""Small pieces of HTML for the brief (``simulator.report.brief``): text is escaped unless it is ``Html``.

Every string that reaches the page goes through ``esc`` (``html.escape``) unless it was built
here as ``Html``, so a scenario's description, a source or a fact's claim cannot add markup or
scripts. Readings (``simulator.report.reading``) are Markdown with only backticks and bold;
``inline`` escapes them first and then turns those two marks into tags. Figures are embedded as
base64 PNG, so the page is one file that needs nothing else to show or print.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

# A4 portrait; figures side by side and small type, so that a brief of a few options prints on
# one or two pages.
CSS = """
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 8.8pt; line-height: 1.25;
       color: #111; max-width: 190mm; margin: 0 auto; padding: 4mm; }
h1 { font-size: 15pt; margin: 0 0 1mm; }
h2 { font-size: 10.5pt; margin: 2.5mm 0 0.8mm; border-bottom: 0.4pt solid #888; break-after: avoid; }
p { margin: 1mm 0; }
ul { margin: 1mm 0; padding-left: 5mm; }
li { margin: 0.4mm 0; }
code { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em; }
.meta, .note { color: #444; font-size: 8pt; }
.headline { font-size: 10.5pt; border-left: 2.5pt solid #1f4e99; padding: 1mm 0 1mm 3mm; margin: 2mm 0; }
.figures { display: grid; grid-template-columns: 1fr 1fr; gap: 2mm; break-inside: avoid; }
figure { margin: 0; break-inside: avoid; }
figure img { width: 100%; height: auto; }
figcaption { font-size: 7.5pt; color: #444; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0; font-size: 8.5pt; break-inside: auto; }
th, td { border-bottom: 0.4pt solid #ccc; padding: 0.4mm 1.2mm; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
.bad { color: #8c2d04; font-weight: bold; }
.warn { color: #8c2d04; }
.sources { font-size: 7pt; line-height: 1.2; }
.sources th.group { background: #f6f6f6; font-weight: normal; font-style: italic; }
table.sources { table-layout: fixed; }
.sources td { overflow-wrap: anywhere; }
.meaning { color: #555; }
ul.facts { font-size: 7pt; line-height: 1.2; columns: 2; column-gap: 6mm; }
ul.facts li { break-inside: avoid; }
@media print { body { padding: 0; max-width: none; } }
"""


class Html(str):
    """Text that is already HTML: ``esc`` and ``tag`` pass it through unchanged."""


def esc(text: Any) -> Html:
    """``text`` as HTML: escaped (quotes too), unless it is ``Html`` already."""
    if isinstance(text, Html):
        return text
    return Html(html.escape(str(text), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    """Pieces joined, each escaped unless ``Html`` (``sep`` is written as given)."""
    return Html(sep.join(esc(p) for p in parts))


def tag(name: str, *children: Any, **attrs: Any) -> Html:
    """``<name attrs>children</name>``; ``class_`` gives the ``class`` attribute. Children are escaped."""
    text = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Html(f"<{name}{text}>{join(children)}</{name}>")


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def inline(markdown: str) -> Html:
    """One line of a reading (Markdown with `code` and **bold** only) as HTML, escaped first."""
    text = html.escape(markdown, quote=True)
    text = _CODE.sub(r"<code>\1</code>", text)
    return Html(_BOLD.sub(r"<strong>\1</strong>", text))


def para(*children: Any, class_: str | None = None) -> Html:
    return tag("p", *children, class_=class_)


def bullets(items: Iterable[Any]) -> Html:
    return tag("ul", *(tag("li", i) for i in items))


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
          class_: str | None = None) -> Html:
    """A table; the columns at the positions ``numeric`` are right-aligned."""
    head = tag("tr", *(tag("th", h) for h in header))
    body = [tag("tr", *(tag("td", cell, class_="num" if i in numeric else None) for i, cell in enumerate(row)))
            for row in rows]
    return tag("table", tag("thead", head), tag("tbody", *body), class_=class_)


def section(title: str, *children: Any) -> Html:
    return tag("section", tag("h2", title), *children)


def png_data_uri(fig: Any, dpi: int = 120) -> str:
    """A Matplotlib figure as a ``data:image/png;base64`` URI (no creation date or software in the PNG)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure(uri: str, alt: str, caption: Any) -> Html:
    return tag("figure", Html(f'<img src="{esc(uri)}" alt="{esc(alt)}">'), tag("figcaption", caption))


def page(title: str, body: Iterable[Any]) -> str:
    """The whole document: one file, its style inline, nothing loaded from elsewhere."""
    return ("<!DOCTYPE html>\n"
            + str(tag("html", Html(f'<head><meta charset="utf-8"><title>{esc(title)}</title>'
                                   f'<style>{CSS}</style></head>'),
                      tag("body", *body), lang="en"))
            + "\n")
