"""Page numbers for printed reports, drawn by the browser in the page margin (CSS @page
margin boxes with the `page` and `pages` counters, Chromium 131 and later). A browser
without margin boxes prints its own header and footer instead, page numbers included.
No Flask: the route passes the translated sentence in."""

import re

_COUNTER = re.compile(r"\{(page|pages)\}")


def _css_string(text: str) -> str:
    """A CSS string literal that cannot end the string, the rule or the <style> element."""
    escaped = "".join(f"\\{ord(ch):x} " if ch in '"\\<>&\n\r\f' else ch for ch in text)
    return f'"{escaped}"'


def counter_content(sentence: str) -> str:
    """The CSS `content` value for a sentence with {page} and {pages} in it:
    "第 {page} 页，共 {pages} 页" -> '"第 " counter(page) " 页，共 " counter(pages) " 页"'."""
    parts = []
    for index, piece in enumerate(_COUNTER.split(sentence)):
        if index % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts) or '""'
