"""The layers the code stands on: a service imports only the services below it (never a higher
feature's), and the audit log's module imports nothing of the web helpers. Read from the source,
function-level imports included, so a lazy import cannot hide a cycle."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: each service may import the services before it in this list, never after.
SERVICE_LAYERS = (
    "voting_app.registry.service",
    "voting_app.auth.service",
    "voting_app.sessions.service",
    "voting_app.ballots.service",
    "voting_app.projects.service",
    "voting_app.documents.service",
    "voting_app.proposals.service",
    "voting_app.duty.service",
    "surveys.service",
    "voting_app.screen.service",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every module of the app and what it imports (a `from X import Y` names both X and X.Y)."""
    graph = {}
    for path in [*ROOT.glob("voting_app/**/*.py"), *ROOT.glob("surveys/**/*.py")]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
        graph[_module_name(path)] = names
    return graph


def test_every_service_module_is_placed_in_a_layer():
    services = {name for name in imports() if name.endswith(".service")}
    assert services == set(SERVICE_LAYERS)


def test_a_service_never_imports_a_higher_features_service():
    graph = imports()
    upward = [
        f"{lower} imports {higher}"
        for position, lower in enumerate(SERVICE_LAYERS)
        for higher in SERVICE_LAYERS[position:]
        if higher != lower and higher in graph[lower]
    ]
    assert upward == []


def test_the_registry_stands_below_every_feature():
    """Terms, deputies, groups, stations and grids are the ground: nothing under
    voting_app.registry imports a feature package."""
    features = ("voting_app.auth", "voting_app.sessions", "voting_app.ballots", "voting_app.projects",
                "voting_app.proposals", "surveys", "voting_app.screen", "voting_app.reports",
                "voting_app.duty")
    upward = [
        f"{module} imports {name}"
        for module, names in imports().items() if module.startswith("voting_app.registry")
        for name in names if name.startswith(features)
    ]
    assert upward == []


def test_the_audit_log_stands_below_the_web_helpers():
    graph = imports()
    assert not any(name.startswith("voting_app.web") for name in graph["voting_app.audit"])
    assert "voting_app.audit" in graph["voting_app.web"]  # the direction that stays


def test_the_checkpoint_pack_is_computed_without_flask():
    """The report pack is read by the A4 page, the Excel file and the year's archive (a command,
    no request): its module imports neither Flask nor its extensions."""
    flask = [name for name in imports()["voting_app.projects.checkpoints"] if name.split(".")[0].startswith("flask")]
    assert flask == []


def test_the_archive_verifier_imports_only_what_the_archive_ships():
    """The archive carries `verify_archive` and the modules it needs (VERIFIER_SOURCES); any
    other import of the app would leave the shipped verifier unable to run. (The package's
    `__init__` imports the app only inside `create_app`, which the verifier never calls.)"""
    import sys

    from voting_app.archive.contents import VERIFIER_SOURCES

    shipped = {_module_name(ROOT / source) for source in VERIFIER_SOURCES}
    graph = imports()
    outside = [
        f"{module} imports {name}"
        for module in shipped - {"voting_app"} for name in graph[module]
        if name.split(".")[0] not in sys.stdlib_module_names and name != "__future__"
        and not any(name == kept or name.startswith(kept + ".") for kept in shipped - {"voting_app"})
        and name != "voting_app"
    ]
    assert outside == []


# Plain domain modules: they read through the services but import no Flask, so a page, a command or
# a report can call them alike. Each stands just above the highest service it reads.
DOMAIN_MODULES = {"voting_app.projects.story": "voting_app.proposals.service"}


def test_domain_modules_import_no_flask_and_no_higher_service():
    graph = imports()
    wrong = []
    for module, highest in DOMAIN_MODULES.items():
        above = SERVICE_LAYERS[SERVICE_LAYERS.index(highest) + 1:]
        wrong += [f"{module} imports {name}" for name in graph[module]
                  if name.split(".")[0].startswith("flask") or name in above]
    assert wrong == []
