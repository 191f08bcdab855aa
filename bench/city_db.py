"""The city's users and its problems' closed-loop history, run as a child process of bench/city.py.

    DATABASE_URL=postgis://… .venv/bin/python -m bench.city_db users FILES/users.json
    DATABASE_URL=postgis://… .venv/bin/python -m bench.city_db link FILES/users.json
    DATABASE_URL=postgis://… .venv/bin/python -m bench.city_db history

Users and their links go through the demo's own functions (``gridmap.imports.demo``). The history
is the demo's (``gridmap.imports.demo_history``: the same steps, delays, shares of extension and
rework, actors) written in set-based SQL for 1,000,000 rows: random draws come from an md5 of the
problem's key, so every load gives the same history. Problems that already have a step beyond
their report are left alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# u(key, salt): a uniform draw in [0, 1) fixed by the problem's key
U = "(('x' || substr(md5(p.source_key || '{salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)"

PLAN = """
CREATE TEMP TABLE city_plan AS
WITH heads AS (
  SELECT community_id, min(user_id) AS user_id FROM accounts_profile
   WHERE role = 'community_head' GROUP BY community_id
), departments AS (
  SELECT eventcategory_id AS category_id, min(department_id) AS department_id
    FROM accounts_department_categories GROUP BY eventcategory_id
), handlers AS (
  SELECT department_id, min(user_id) AS user_id FROM accounts_profile
   WHERE role = 'department' GROUP BY department_id
), inspectors AS (
  SELECT pc.community_id, min(pr.user_id) AS user_id FROM accounts_profile pr
    JOIN accounts_profile_patrol_communities pc ON pc.profile_id = pr.id
   WHERE pr.role = 'inspector' GROUP BY pc.community_id
), base AS (
  SELECT p.id, p.status, p.reported_at, p.community_id, p.category_id, c.deadline_hours, c.lookback_days,
         COALESCE(g.first_responsible_id, heads.user_id) AS lead,
         {u_file} AS u_file, {u_disp} AS u_disp, {u_ext} AS u_ext, {u_late} AS u_late,
         {u_handle} AS u_handle, {u_rework} AS u_rework, {u_verify} AS u_verify
    FROM problems_problem p
    JOIN problems_eventcategory c ON c.id = p.category_id
    LEFT JOIN geography_grid g ON g.id = p.grid_id
    LEFT JOIN heads ON heads.community_id = p.community_id
   WHERE p.status <> 'reported'
     AND NOT EXISTS (SELECT 1 FROM problems_problemevent e WHERE e.problem_id = p.id AND e.action <> 'report')
), t AS (
  SELECT b.*, b.reported_at + interval '1 hour' * (0.3 + 7.7 * u_file) AS t_file FROM base b
), d AS (
  SELECT t.*, t.t_file + interval '1 hour' * (0.2 + 3.8 * u_disp) AS t_disp FROM t
), h AS (
  SELECT d.*,
         d.t_disp + interval '1 hour' * (deadline_hours + CASE WHEN u_ext < 0.06 THEN 48 ELSE 0 END) AS due,
         d.t_disp + interval '1 hour' * (1 + (deadline_hours * CASE WHEN u_late < 0.15 THEN 1.4 ELSE 0.8 END - 1)
                                            * u_handle) AS t_handle
    FROM d
)
SELECT h.*, h.t_handle + interval '1 hour' * (1 + 29 * u_verify) AS t_verify,
       departments.department_id, handlers.user_id AS handler, inspectors.user_id AS inspector
  FROM h
  LEFT JOIN departments ON departments.category_id = h.category_id
  LEFT JOIN handlers ON handlers.department_id = departments.department_id
  LEFT JOIN inspectors ON inspectors.community_id = h.community_id
"""

UPDATE = """
UPDATE problems_problem p SET
  filed_at = CASE WHEN x.status <> 'rejected' THEN x.t_file END,
  department_id = CASE WHEN dispatched THEN x.department_id END,
  dispatched_at = CASE WHEN dispatched THEN x.t_disp END,
  deadline = CASE WHEN dispatched THEN x.due END,
  inspector_id = CASE WHEN dispatched THEN x.inspector END,
  extension_count = CASE WHEN dispatched AND x.u_ext < 0.06 THEN 1 ELSE 0 END,
  handled_at = CASE WHEN handled THEN x.t_handle END,
  handled_by_id = CASE WHEN handled THEN COALESCE(x.handler, x.lead) END,
  rework_count = CASE WHEN handled AND x.u_rework < 0.08 THEN 1 ELSE 0 END,
  closed_at = CASE WHEN closed THEN x.t_verify END,
  closed_on_time = CASE WHEN closed THEN x.t_verify <= x.due END,
  lookback_due = CASE WHEN closed THEN (x.t_verify AT TIME ZONE 'Asia/Shanghai')::date + x.lookback_days END
FROM (SELECT *, status IN ('dispatched', 'handled', 'closed') AS dispatched,
             status IN ('handled', 'closed') AS handled, status = 'closed' AS closed FROM city_plan) x
WHERE p.id = x.id
"""

EVENTS = """
INSERT INTO problems_problemevent (problem_id, action, from_status, to_status, actor_id, at, note, data)
SELECT x.id, s.action, s.from_status, s.to_status, s.actor, s.at, '', '{}'::jsonb
  FROM city_plan x
 CROSS JOIN LATERAL (VALUES
   (1, 'reject', 'reported', 'rejected', x.lead, x.t_file),
   (2, 'file', 'reported', 'filed', x.lead, x.t_file),
   (3, 'dispatch', 'filed', 'dispatched', x.lead, x.t_disp),
   (4, 'handle', 'dispatched', 'handled', COALESCE(x.handler, x.lead), x.t_handle),
   (5, 'verify_pass', 'handled', 'closed', x.inspector, x.t_verify)
 ) AS s(step, action, from_status, to_status, actor, at)
 WHERE CASE x.status WHEN 'rejected' THEN s.step = 1 WHEN 'filed' THEN s.step = 2
                     WHEN 'dispatched' THEN s.step IN (2, 3) WHEN 'handled' THEN s.step IN (2, 3, 4)
                     ELSE s.step >= 2 END
"""


def _setup() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    # a batch job, not a request: the set-based history takes minutes at 1M problems
    os.environ.setdefault("GRIDMAP_DB_STATEMENT_TIMEOUT", "0")
    import django

    django.setup()


def history() -> int:
    from django.db import connection, transaction

    salts = {
        f"u_{n}": U.format(salt=f":{n}")
        for n in ("file", "disp", "ext", "late", "handle", "rework", "verify")
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(PLAN.format(**salts))
        cur.execute("SELECT count(*) FROM city_plan")
        n = cur.fetchone()[0]
        cur.execute(UPDATE)
        cur.execute(EVENTS)
        cur.execute("DROP TABLE city_plan")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return n


def main(argv: list[str]) -> int:
    _setup()
    from django.conf import settings

    began = time.perf_counter()
    if argv[0] == "users":
        from gridmap.imports.demo import users_load

        entries = users_load(Path(argv[1]), settings.GRIDMAP["DEMO_PASSWORD"])
        print(f"users {len(entries)}")
    elif argv[0] == "link":
        from gridmap.imports.demo import communities_link

        communities_link(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
        print("linked")
    elif argv[0] == "history":
        print(f"history {history()}")
    print(f"took {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
