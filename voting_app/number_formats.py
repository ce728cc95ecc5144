"""A spreadsheet number as the sheet displays it: pure rules, no I/O.

A .xlsx file stores 1 for a cell that shows "001" under the number format `000`; a roster
must keep "001", the number people read and type. openpyxl gives the stored value and the
format but does not apply one, so the formats rosters use are applied here: digit
placeholders (`0` pads with zeros, `#` and `?` do not), decimals, thousands separators,
quoted or escaped literal text (`"D"000`, `\\A000`), the text format `@`, and the
positive;negative;zero sections. Colours and conditions in brackets are left out; a format
this does not understand (scientific, fractions, dates) shows the number as `General` does,
where an integer stored as a float (1.0) shows as 1.
"""

from datetime import date, datetime, time

GENERAL = "general"


def _general(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    if isinstance(number, float):
        return format(number, ".11g")
    return str(number)


def _sections(number_format: str) -> list[str]:
    """Split on semicolons outside quotes and escapes."""
    sections, current, quoted, escaped = [], "", False, False
    for char in number_format:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == '"':
            current += char
            quoted = not quoted
        elif char == ";" and not quoted:
            sections.append(current)
            current = ""
        else:
            current += char
    sections.append(current)
    return sections


def _tokens(section: str) -> list[tuple[str, str]] | None:
    """('literal', text) and ('digits', placeholders) tokens; None for a format not handled."""
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(section):
        char = section[index]
        if char == '"':
            end = section.find('"', index + 1)
            end = len(section) if end < 0 else end
            tokens.append(("literal", section[index + 1 : end]))
            index = end + 1
        elif char == "\\" and index + 1 < len(section):
            tokens.append(("literal", section[index + 1]))
            index += 2
        elif char == "[":
            end = section.find("]", index)
            index = len(section) if end < 0 else end + 1
        elif char in "_*" and index + 1 < len(section):
            # `_x` leaves the width of x blank; `*x` repeats x to fill the cell: neither is text.
            index += 2
        elif char in "0#?.,":
            start = index
            while index < len(section) and section[index] in "0#?.,":
                index += 1
            tokens.append(("digits", section[start:index]))
        elif char == "@":
            tokens.append(("text", "@"))
            index += 1
        elif char.lower() in "eymdhs/%":
            return None
        else:
            tokens.append(("literal", char))
            index += 1
    return tokens


def _apply_digits(number: float | int, placeholders: str) -> str:
    integer_part, _, decimal_part = placeholders.partition(".")
    grouped = "," in integer_part.strip(",")
    scale = len(integer_part) - len(integer_part.rstrip(","))  # trailing commas divide by 1000 each
    integer_part = integer_part.replace(",", "")
    decimal_part = decimal_part.replace(",", "")
    number = abs(number) / (1000**scale)
    decimals = len(decimal_part)
    text = f"{number:.{decimals}f}"
    whole, _, fraction = text.partition(".")
    whole = whole.lstrip("0")
    whole = whole.rjust(integer_part.count("0"), "0")
    if grouped:
        whole = f"{int(whole or 0):,}".rjust(len(whole), "0") if whole else ""
    if decimals:
        keep = len(decimal_part.rstrip("#?"))
        fraction = fraction[:keep] + fraction[keep:].rstrip("0")
        return whole + ("." + fraction if fraction or "." in placeholders else "")
    return whole


def displayed(value: object, number_format: str | None) -> str:
    """The text a spreadsheet shows for a cell's stored value under its number format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if not isinstance(value, (int, float)):
        return str(value)
    sections = _sections(number_format or "General")
    if value < 0 and len(sections) > 1:
        section, signed = sections[1], False
    elif value == 0 and len(sections) > 2:
        section, signed = sections[2], False
    else:
        section, signed = sections[0], value < 0
    if section.strip().lower() in ("", GENERAL):
        return _general(value)
    tokens = _tokens(section)
    if tokens is None:
        return _general(value)
    kinds = {kind for kind, _ in tokens}
    if "digits" not in kinds:
        # `@` shows the number as General does; a section of text only (`"无"`) shows its text.
        return _general(value) if "text" in kinds else "".join(text for _, text in tokens)
    groups = [text for kind, text in tokens if kind == "digits"]
    if len(groups) > 1 and not any("." in text for text in groups):
        return ("-" if signed else "") + _spread_digits(value, tokens)
    shown, placed = "", False
    for kind, text in tokens:
        if kind == "digits" and not placed:
            shown += ("-" if signed else "") + _apply_digits(value, text)
            placed = True
        elif kind == "literal":
            shown += text
    return shown


def _spread_digits(number: float | int, tokens: list[tuple[str, str]]) -> str:
    """A whole number across several placeholder groups (`000-0000`), filled from the right;
    digits beyond the placeholders go to the leftmost one, as Excel does."""
    digits = str(round(abs(number)))
    digits = "" if digits == "0" else digits
    pieces: list[str] = []
    for kind, text in reversed(tokens):
        if kind == "literal":
            pieces.append(text)
        elif kind == "digits":
            for placeholder in reversed(text.replace(",", "")):
                if digits:
                    pieces.append(digits[-1])
                    digits = digits[:-1]
                else:
                    pieces.append({"0": "0", "?": " "}.get(placeholder, ""))
    leftmost = next(index for index in range(len(tokens)) if tokens[index][0] == "digits")
    prefix = "".join(text for kind, text in tokens[:leftmost] if kind == "literal")
    body = "".join(reversed(pieces))
    return prefix + digits + body[len(prefix):] if digits else body
