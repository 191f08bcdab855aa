"""Inline SVG charts: valid XML, every text escaped, accessible names, honest bar sizes, and a
clear message instead of empty axes when there is nothing to draw."""

import math
import xml.etree.ElementTree as ET

import pytest

from gridmap.evaluation.charts import Series, bar_chart, fmt, hbar_chart, line_chart, nice_ticks

NS = {"s": "http://www.w3.org/2000/svg"}
EVIL = "<script>alert(\"x\")</script> & 'quoted'"


def parse(svg):
    root = ET.fromstring(str(svg))  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    title, desc = root.find("s:title", NS), root.find("s:desc", NS)
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


def texts(root):
    return [t.text for t in root.iter() if t.text]


def test_every_text_is_escaped():
    svg = bar_chart(title=EVIL, labels=[EVIL, "b"], series=[Series(EVIL, [1, 2])], x_label=EVIL, y_label=EVIL)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find("s:title", NS).text == EVIL  # the reader gets the text back, as text
    assert not root.findall(".//s:script", NS)
    svg = line_chart(title=EVIL, labels=[EVIL], series=[Series(EVIL, [3])])
    assert "<script>" not in svg and parse(svg).find(".//s:circle/s:title", NS).text == f"{EVIL} · {EVIL}: 3"
    svg = hbar_chart(title=EVIL, labels=[EVIL], values=[50.0])
    assert "<script>" not in svg and parse(svg).find(".//s:g/s:title", NS).text == f"{EVIL}: 50"


def test_a_colour_that_is_not_a_colour_is_replaced():
    svg = bar_chart(title="t", labels=["a"], series=[Series("s", [1], color='red" onload="x')])
    assert "onload" not in svg
    assert parse(svg).find(".//s:rect[s:title]", NS).get("fill").startswith("#")


@pytest.mark.parametrize(
    "labels,values",
    [([], []), (["a", "b"], [None, None]), (["a"], [float("nan")])],
)
def test_no_data_says_so(labels, values):
    for svg in (
        bar_chart(title="t", labels=labels, series=[Series("s", values)], empty_text="没有数据"),
        line_chart(title="t", labels=labels, series=[Series("s", values)], empty_text="没有数据"),
        hbar_chart(title="t", labels=labels, values=values, empty_text="没有数据"),
    ):
        root = parse(svg)
        assert "没有数据" in texts(root)
        assert not root.findall(".//s:rect", NS) and not root.findall(".//s:polyline", NS)


def test_no_series_says_so():
    assert "No data" in texts(parse(bar_chart(title="t", labels=["a"], series=[])))


def test_bar_heights_are_proportional_and_zero_draws_flat():
    root = parse(bar_chart(title="t", labels=["a", "b", "c"], series=[Series("s", [10, 5, 0])]))
    bars = [r for r in root.findall(".//s:rect", NS) if r.find("s:title", NS) is not None]
    heights = [float(b.get("height")) for b in bars]
    assert len(bars) == 3 and heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 0
    assert [b.find("s:title", NS).text for b in bars] == ["a · s: 10", "b · s: 5", "c · s: 0"]


def test_grouped_bars_and_a_legend_per_series():
    root = parse(
        bar_chart(
            title="t", labels=["w1", "w2"], series=[Series("filed", [1, 2]), Series("closed", [2, None])]
        )
    )
    bars = [r for r in root.findall(".//s:rect", NS) if r.find("s:title", NS) is not None]
    assert len(bars) == 3  # None draws nothing
    assert {"filed", "closed"} <= set(texts(root))


def test_a_missing_value_breaks_the_line():
    root = parse(line_chart(title="t", labels=list("abcde"), series=[Series("s", [1, 2, None, 3, 4])]))
    assert len(root.findall(".//s:polyline", NS)) == 2 and len(root.findall(".//s:circle", NS)) == 4


def test_axes_have_round_ticks_reaching_the_top():
    root = parse(bar_chart(title="t", labels=["a"], series=[Series("s", [37])]))
    ticks = [
        float(t.text)
        for t in root.findall(".//s:text[@class='tick']", NS)
        if t.text.replace(".", "").isdigit()
    ]
    assert 0 in ticks and max(ticks) >= 37


@pytest.mark.parametrize("top", [0.3, 1, 7, 37, 100, 1234, 99999])
def test_nice_ticks(top):
    ticks = nice_ticks(top)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert ticks[0] == 0 and ticks[-1] >= top and len(steps) == 1 and 2 <= len(ticks) <= 11
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)


@pytest.mark.parametrize("top", [0, -5, float("nan"), float("inf")])
def test_nice_ticks_of_nothing(top):
    assert nice_ticks(top) == [0.0, 1.0]


def test_long_labels_are_cut_on_the_chart_and_whole_in_the_tooltip():
    name = "一个名字非常非常非常非常长的网格"
    root = parse(hbar_chart(title="t", labels=[name], values=[88.25], max_value=100))
    row = root.find(".//s:g", NS)
    assert row.find("s:title", NS).text == f"{name}: 88.2" or row.find("s:title", NS).text == f"{name}: 88.3"
    shown = row.find("s:text", NS).text
    assert shown.endswith("…") and len(shown) <= 14


def test_hbar_scales_to_the_given_maximum():
    root = parse(hbar_chart(title="t", labels=["a", "b"], values=[100, 50], max_value=100))
    widths = [float(r.get("width")) for r in root.findall(".//s:rect", NS)]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_lengths_must_match():
    with pytest.raises(ValueError):
        bar_chart(title="t", labels=["a", "b"], series=[Series("s", [1])])
    with pytest.raises(ValueError):
        hbar_chart(title="t", labels=["a"], values=[1, 2])


def test_number_labels():
    assert (fmt(None), fmt(3.0), fmt(2.25), fmt(10)) == ("—", "3", "2.2", "10")
