"""The city bench's table flags exactly the rows that miss a target (bench/city_table.py)."""

from bench import city_table as table


def page(**over):
    row = {"work": "dashboard", "role": "planner", "url": "/dashboard/", "status": 200, "cold_s": 0.5,
           "warm_s": 0.2, "size_bytes": 10_000, "is_file": False, "warm_runs": [0.2]}  # fmt: skip
    return {**row, **over}


def test_a_page_within_every_target_is_met():
    assert table.page_misses(page()) == []


def test_each_target_is_flagged_on_its_own():
    assert table.page_misses(page(cold_s=2.5)) == ["cold > 2 s"]
    assert table.page_misses(page(warm_s=1.01)) == ["warm > 1 s"]
    assert table.page_misses(page(size_bytes=2_500_000)) == ["> 2 MB"]


def test_a_file_the_user_asked_for_may_be_large():
    assert table.page_misses(page(size_bytes=50_000_000, is_file=True)) == []


def test_errors_and_timeouts_miss_and_refusals_are_left_out_of_the_table():
    assert table.page_misses(page(status=500, warm_s=None)) == ["HTTP 500"]
    assert table.page_misses(page(status=0, warm_s=None)) == ["no answer (timeout)"]
    pages = [
        page(),
        page(work="planner", status=403, warm_s=None),
        page(work="route", status=400, warm_s=None),
    ]
    rows = table.page_rows(pages, [])
    assert [r[0] for r in rows] == ["dashboard", "route"]
    assert rows[1][-1].startswith("**NO**") and table.misses_count(rows) == 1
    assert table.denied_lines(pages) == ["- planner: planner (403)"]


def test_town_figures_sit_beside_the_city_ones():
    rows = table.page_rows([page(first_s=4.0, cold_s=3.0)], [page(cold_s=0.05, warm_s=0.02)])
    assert rows[0][2:6] == ["0.05 s / 0.02 s", "4.00 s", "3.00 s", "0.20 s"]


def test_the_first_request_has_no_target():
    assert table.page_rows([page(first_s=9.0, cold_s=0.5, warm_s=0.2)], [])[0][-1] == "yes"


def test_imports_are_flagged_on_speed_and_memory():
    stages = {
        "migrate": {"seconds": 4.0, "peak_mb": 200.0},
        "import problems": {"seconds": 500.0, "peak_mb": 4000.0, "rows": 1_000_000, "rows_per_s": 2000.0},
        "import streets": {"seconds": 10.0, "peak_mb": 400.0, "rows": 96_360, "rows_per_s": 9636.0},
        "import buildings": {"seconds": 30.0, "peak_mb": 1100.0, "rows": 100_000, "rows_per_s": 3333.0},
    }
    rows = table.import_rows(stages)
    assert rows[0][-1] == ""
    assert rows[1][-1] == "**NO**: < 5,000 rows/s, > 1,024 MB"
    assert rows[2][-1] == "yes"
    assert rows[3][-1] == "**NO**: > 1,024 MB"  # the speed target is the problems' (1M rows)


def test_worker_memory_and_command_start():
    assert table.memory_rows([500.0, 1100.0], [])[0][-1].startswith("**NO**")
    assert table.memory_rows([], []) == []
    assert [r[-1] for r in table.command_rows({"a": 0.8, "b": 1.2})] == ["yes", "**NO**: > 1 s"]


def test_markdown_escapes_cell_pipes():
    text = table.markdown([["a|b", "x"]], header=["one", "two"])
    assert text.splitlines() == ["| one | two |", "|---|---|", "| a\\|b | x |"]
