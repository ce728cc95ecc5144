"""Excel cells read as the sheet shows them (voting_app/number_formats.py)."""

from datetime import date, datetime

import pytest

from voting_app.number_formats import displayed


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (1, "000", "001"),
        (1.0, "000", "001"),
        (12, "00000", "00012"),
        (1234, "000", "1234"),
        (1, "General", "1"),
        (1.0, "General", "1"),
        (1.0, None, "1"),
        (3.5, "General", "3.5"),
        (7, "0", "7"),
        (7, '"D"000', "D007"),
        (7, "\\A000", "A007"),
        (7, "[$-804]000", "007"),
        (7, "000_ ", "007"),
        (1234567, "#,##0", "1,234,567"),
        (1, "0.00", "1.00"),
        (1, "000.0", "001.0"),
        (-3, "00;(00)", "(03)"),
        (-3, "000", "-003"),
        (0, '0;-0;"无"', "无"),
        (12, "000-0000", "000-0012"),
        (3, "00;[Red]-00", "03"),
        ("007", "@", "007"),
        (7, "@", "7"),
        ("唐\u3000军", "General", "唐\u3000军"),
        (None, "000", ""),
        (True, "General", "TRUE"),
        (datetime(2026, 1, 5), "yyyy-mm-dd", "2026-01-05"),
        (date(2026, 1, 5), "yyyy-mm-dd", "2026-01-05"),
        (45000, "0.00E+00", "45000"),
    ],
)
def test_a_cell_reads_as_the_sheet_shows_it(value, number_format, shown):
    assert displayed(value, number_format) == shown
