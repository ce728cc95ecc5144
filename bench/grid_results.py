"""Per-grid results at 10^6 responses: a Fancheng-sized district (10 centres, 128 unit grids,
625 grids), one survey whose responses are spread over its grids, loaded with set-based
INSERT ... SELECT (a recursive series on SQLite, generate_series on PostgreSQL), then
`surveys.service.grid_results` timed at each level (median of five after a warm-up) against a
baseline measured in the same run on the same rows: a bare count of the survey's answers.

    python -m bench.grid_results [--url sqlite:////tmp/grids.sqlite3] [--responses 1000000]
"""

import argparse
import json
import statistics
import time

TARGET_MS = 500
RUNS = 5

SERIES = {
    "sqlite": "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :last) ",
    "postgresql": "",
}
FROM_SERIES = {"sqlite": "seq", "postgresql": "generate_series(0, :last) AS seq(i)"}
DAY = {"sqlite": "'2026-03-02'", "postgresql": "DATE '2026-03-02'"}
MOMENT = {"sqlite": "'2026-03-02 10:00:00'", "postgresql": "TIMESTAMP '2026-03-02 10:00:00'"}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _median_ms(call) -> float:
    call()  # warm-up: compiled statements, the page cache
    return round(statistics.median(_timed(call) for _ in range(RUNS)), 1)


def grid_results_case(db_url: str, responses: int, make_app) -> dict:
    """Load and time; `make_app(db_url)` builds the app (bench.run's, with its secrets)."""
    from sqlalchemy import func, select, text

    from surveys import service as surveys
    from surveys.models import Answer, Survey
    from voting_app.db import db
    from voting_app.registry.grids import GRID
    from voting_app.registry.models import Grid
    from voting_app.demo_grids import seed_grids

    app = make_app(db_url)
    with app.app_context():
        dialect = db.engine.dialect.name
        seed_grids("bench")
        survey = surveys.create_from_template("bench", "按网格满意度（基准）", None, None)
        question_id = survey.questions[0].id
        survey_id = survey.id
        db.session.commit()
        loaded = time.perf_counter()
        grid_ids = db.session.scalars(select(Grid.id).where(Grid.level == GRID).order_by(Grid.code)).all()
        db.session.execute(text("CREATE TABLE bench_grid_map (n INTEGER PRIMARY KEY, grid_id INTEGER)"))
        db.session.execute(text("INSERT INTO bench_grid_map (n, grid_id) VALUES (:n, :grid_id)"),
                           [{"n": n, "grid_id": grid_id} for n, grid_id in enumerate(grid_ids)])
        start = db.session.scalar(select(func.coalesce(func.max(Answer.response_id), 0))) + 1
        values = {"last": responses - 1, "grids": len(grid_ids), "start": start, "survey": survey_id, "question": question_id}
        # Every grid gets its share; one answer in ten is 不满意, three 基本满意.
        db.session.execute(text(
            SERIES[dialect] + "INSERT INTO survey_responses (id, survey_id, grid_id, submitted_at, week_start, is_assisted, is_flagged) "
            f"SELECT :start + i, :survey, m.grid_id, {MOMENT[dialect]}, {DAY[dialect]}, false, false FROM {FROM_SERIES[dialect]} "
            "JOIN bench_grid_map m ON m.n = i % :grids"), values)
        db.session.execute(text(
            SERIES[dialect] + "INSERT INTO survey_answers (response_id, question_id, survey_id, value, is_hidden, grid_id, week_start, "
            "is_assisted, is_flagged, is_held) "
            f"SELECT :start + i, :question, :survey, CASE WHEN i % 10 < 6 THEN 'satisfied' WHEN i % 10 < 9 THEN 'mostly_satisfied' "
            f"ELSE 'dissatisfied' END, false, m.grid_id, {DAY[dialect]}, false, false, false FROM {FROM_SERIES[dialect]} "
            "JOIN bench_grid_map m ON m.n = i % :grids"), values)
        db.session.execute(text("DROP TABLE bench_grid_map"))
        db.session.commit()
        if dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE survey_answers"))  # index-only scans need the visibility map
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        load_seconds = round(time.perf_counter() - loaded, 1)
        survey = db.session.get(Survey, survey_id)
        baseline_ms = _median_ms(lambda: db.session.scalar(
            select(func.count()).select_from(Answer).where(Answer.question_id == question_id, Answer.is_held.is_(False))))
        levels = {}
        for level in (1, 2, 3):
            cells = surveys.grid_results(survey, level)
            assert sum(cell.rate.valid for cell in cells) == responses
            levels[level] = _median_ms(lambda: surveys.grid_results(survey, level))
        suppressed = sum(cell.is_suppressed for cell in surveys.grid_results(survey, 3))
        db.session.remove()
        db.engine.dispose()
    slowest = max(levels.values())
    return {"dialect": dialect, "responses": responses, "load_seconds": load_seconds, "baseline_count_ms": baseline_ms,
            "by_level_ms": levels, "slowest_ms": slowest, "ratio_to_baseline": round(slowest / max(baseline_ms, 0.1), 2),
            "grids_suppressed": suppressed, "target_ms": TARGET_MS}


def main(argv=None) -> int:
    from bench.run import make_app, migrate

    parser = argparse.ArgumentParser(prog="python -m bench.grid_results", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:////tmp/bench-grids.sqlite3", help="an empty database (it is migrated)")
    parser.add_argument("--responses", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    migrate(args.url)
    result = grid_results_case(args.url, args.responses, make_app)
    print(json.dumps(result, indent=2))
    return 0 if result["slowest_ms"] < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
