"""The grid hierarchy's pure rules: reading a grid table and its boundaries, checked whole, and
the map drawn from them."""

import json
import re

from voting_app.registry import grid_map
from voting_app.registry.grids import (
    CENTRE,
    GRID,
    UNIT,
    StoredGrid,
    ancestors,
    parse_boundaries,
    parse_grid_table,
    synthetic_district,
)

HEADER = ["网格编码", "网格名称", "上级网格编码", "层级"]
GOOD = [HEADER, ["C1", "一中心", "", "网格中心"], ["C1U1", "一单元", "C1", "单元网格"], ["C1U1G1", "一号网格", "C1U1", "网格"],
        ["C1U1G2", "二号网格", "C1U1", "3"]]


def codes(parse):
    return [(error.line, error.code) for error in parse.errors]


def test_a_good_table_reads_every_row_with_its_level():
    parse = parse_grid_table(GOOD)
    assert parse.is_valid
    assert [(row.code, row.level, row.parent) for row in parse.rows] == [
        ("C1", CENTRE, ""), ("C1U1", UNIT, "C1"), ("C1U1G1", GRID, "C1U1"), ("C1U1G2", GRID, "C1U1")]


def test_english_headers_and_a_title_row_above_the_header_are_read():
    table = [["樊城区网格清单"], ["code", "name", "parent code", "level"], ["C1", "一中心", "", "1"]]
    assert parse_grid_table(table).is_valid


def test_every_bad_row_is_reported_with_its_line():
    table = [HEADER,
             ["C1", "一中心", "", "网格中心"],
             ["C1U1", "一单元", "C9", "单元网格"],      # 3: unknown parent
             ["C1U2", "二单元", "C1", "网格"],          # 4: a grid right under a centre
             ["C1U3", "", "C1", "单元网格"],            # 5: no name
             ["C1", "重复", "", "网格中心"],            # 6: duplicate code
             ["C2", "二中心", "C1", "网格中心"],        # 7: a centre with a parent
             ["C1U4", "四单元", "C1", "第四级"],        # 8: no such level
             ["C1U5", "五单元", "", "单元网格"]]        # 9: no parent
    assert codes(parse_grid_table(table)) == [(3, "unknown_parent"), (4, "wrong_level"), (5, "missing_value"), (6, "duplicate_code"),
                                              (7, "parent_of_centre"), (8, "bad_level"), (9, "missing_value")]


def test_a_cycle_is_reported_even_against_stored_grids():
    table = [HEADER, ["A", "甲", "B", "单元网格"], ["B", "乙", "A", "单元网格"]]
    assert codes(parse_grid_table(table)) == [(2, "cycle"), (3, "cycle")]
    stored = [StoredGrid("C1", CENTRE, ""), StoredGrid("U1", UNIT, "C1")]
    assert codes(parse_grid_table([HEADER, ["C1", "一中心", "U1", "网格中心"]], stored)) == [(2, "cycle")]


def test_a_stored_grid_left_one_level_wrong_is_reported_on_its_parents_line():
    stored = [StoredGrid("C1", CENTRE, ""), StoredGrid("U1", UNIT, "C1"), StoredGrid("G1", GRID, "U1"), StoredGrid("C2", CENTRE, "")]
    table = [HEADER, ["U1", "一单元", "C2", "单元网格"]]
    assert parse_grid_table(table, stored).is_valid
    table = [HEADER, ["C1", "一中心", "", "网格中心"], ["U1", "一单元", "", "网格中心"]]
    assert codes(parse_grid_table(table, stored)) == [(3, "orphaned_child")]


def test_missing_columns_and_empty_files():
    assert codes(parse_grid_table([["网格编码", "网格名称"], ["C1", "一中心"]])) == [(1, "missing_column")]
    assert codes(parse_grid_table([])) == [(1, "empty_file")]
    assert codes(parse_grid_table([HEADER])) == [(2, "empty_file")]


def test_ancestors_name_the_centre_and_the_unit_grid_of_every_grid():
    grids = {row.code: StoredGrid(row.code, row.level, row.parent) for row in parse_grid_table(GOOD).rows}
    assert ancestors(grids) == {"C1": ("C1", ""), "C1U1": ("C1", "C1U1"), "C1U1G1": ("C1", "C1U1"), "C1U1G2": ("C1", "C1U1")}


def square(x=0.0, y=0.0):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode("utf-8")


def feature(properties, geometry):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def test_boundaries_by_code_or_网格编码():
    parse = parse_boundaries(collection(feature({"code": "C1"}, square()), feature({"网格编码": "C2"}, {
        "type": "MultiPolygon", "coordinates": [square(2)["coordinates"]]})), ["C1", "C2"])
    assert parse.is_valid and set(parse.boundaries) == {"C1", "C2"}


def test_bad_features_are_each_reported_and_nothing_is_kept():
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    parse = parse_boundaries(collection(
        feature({"code": "C1"}, square()),
        feature({"code": "C9"}, square()),
        feature({"name": "无编码"}, square()),
        feature({"code": "C2"}, open_ring),
        feature({"code": "C3"}, {"type": "Point", "coordinates": [0, 0]}),
        feature({"code": "C1"}, square(1)),
    ), ["C1", "C2", "C3"])
    assert [(error.index, error.code, error.grid_code) for error in parse.errors] == [
        (2, "unknown_code", "C9"), (3, "no_code", ""), (4, "bad_geometry", "C2"), (5, "bad_geometry", "C3"), (6, "duplicate_code", "C1")]
    assert parse.boundaries == {}
    assert [error.code for error in parse_boundaries(b"{not json", []).errors] == ["not_json"]
    assert [error.code for error in parse_boundaries(b'{"type": "Feature"}', []).errors] == ["not_collection"]
    nan = b'{"type": "FeatureCollection", "features": [{"properties": {"code": "C1"}, "geometry": {"type": "Polygon", "coordinates": [[[NaN, 0], [1, 0], [1, 1], [NaN, 0]]]}}]}'
    assert [error.code for error in parse_boundaries(nan, ["C1"]).errors] == ["bad_geometry"]


def test_the_synthetic_district_is_fanchengs_size_and_the_same_every_time():
    district = synthetic_district()
    assert [sum(1 for row in district if row[2] == level) for level in (CENTRE, UNIT, GRID)] == [10, 128, 625]
    assert district == synthetic_district()
    rows = [[code, name, parent, str(level)] for code, name, level, parent, _ in district]
    assert parse_grid_table([HEADER, *rows]).is_valid


def test_the_map_draws_one_titled_region_per_grid_and_hatches_the_suppressed():
    regions = [grid_map.Region(1, "一号<网格>", "72.5% (n=40)", grid_map.rate_class(725), (square(),)),
               grid_map.Region(2, "二号网格", "", None, (square(1),)),
               grid_map.Region(3, "三号网格", "", None, ())]
    svg = grid_map.draw(regions, "满意度", "样本不足")
    assert svg.count('<path class="region"') == 2
    assert "<title>一号&lt;网格&gt;: 72.5% (n=40)</title>" in svg
    assert "<title>二号网格: 样本不足</title>" in svg and 'fill="url(#grid-map-hatch)"' in svg
    assert f'fill="{grid_map.PALETTE[2]}"' in svg
    assert re.search(r'viewBox="0 0 1000 \d+"', svg)
    assert grid_map.draw([regions[2]], "满意度", "样本不足") == ""


def test_colour_classes():
    assert [grid_map.rate_class(tenths) for tenths in (0, 599, 600, 699, 700, 850, 900, 1000)] == [0, 0, 1, 1, 2, 3, 4, 4]
    breaks = grid_map.count_breaks([0, 3, 9, 12])
    assert breaks == [0, 3, 6, 9, 12]
    assert [grid_map.count_class(value, breaks) for value in (0, 1, 3, 4, 12)] == [0, 1, 1, 2, 4]
    assert grid_map.count_labels(breaks) == ["0", "1–3", "4–6", "7–9", "10–12"]
    assert grid_map.count_breaks([]) == [0]
