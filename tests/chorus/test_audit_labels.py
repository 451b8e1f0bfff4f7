"""Every action the code base records has a French label: a history or the back-office
list never shows a code such as `ticket_submit`."""

import ast
from pathlib import Path

from chorus.audit_labels import ACTION_LABELS, action_label
from support.services import agents as agent_services

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"tests", "migrations", ".venv", ".tools", "node_modules", "static", "locale"}


def _strings(node):
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _names(target):
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _recorded_actions(tree):
    """String literals given as an action: `action="…"` (also inside a conditional),
    `ACTION = "…"`, `action = "…"`, and positional arguments of the module's helpers whose
    parameter is named `action` (`_audit(agent, ticket, "ticket_assign", before)`)."""
    helpers = _action_helpers(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found |= _call_actions(node, helpers)
        elif isinstance(node, ast.Assign):
            found |= _assigned_actions(node)
    return found


def _action_helpers(tree):
    """The module's functions with a parameter named `action`, and its position."""
    helpers = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            params = [arg.arg for arg in node.args.args]
            if "action" in params:
                helpers[node.name] = params.index("action")
    return helpers


def _call_actions(node, helpers):
    name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
    if name == "add_argument":  # argparse's action="store_true"
        return set()
    found = set()
    for keyword in node.keywords:
        if keyword.arg == "action":
            found |= _strings(keyword.value)
    if name in helpers and len(node.args) > helpers[name]:
        argument = node.args[helpers[name]]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def _assigned_actions(node):
    targets = [name for target in node.targets for name in _names(target)]
    if not any(name == "action" or name.endswith("ACTION") for name in targets):
        return set()
    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
    return {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}


def _source_files():
    for path in ROOT.rglob("*.py"):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def test_the_scan_finds_the_actions_recorded_in_each_way():
    actions = set()
    for path in _source_files():
        actions |= _recorded_actions(ast.parse(path.read_text(encoding="utf-8")))
    # Keyword, conditional, module constant, tuple assignment, positional helper argument.
    assert {
        "membership_attach",
        "approval_refuse",
        "principal_manager_transfer",
        "admin_delete",
        "ticket_update",
        "ticket_assign",
        "chat_end",
    } <= actions
    assert "store_true" not in actions


def test_every_action_recorded_in_the_code_base_has_a_french_label():
    actions = set()
    for path in _source_files():
        actions |= _recorded_actions(ast.parse(path.read_text(encoding="utf-8")))
    # Built from a constant of the back office: f"ticket_{action}".
    actions |= {f"ticket_{agent_services.REQUEST_INFORMATION}", f"ticket_{agent_services.PROPOSE_SOLUTION}"}
    missing = sorted(actions - set(ACTION_LABELS))
    assert missing == []


def test_an_unknown_action_is_shown_as_recorded():
    assert action_label("ticket_submit") == "Envoi d’un ticket"
    assert action_label("quelque_chose_de_nouveau") == "quelque_chose_de_nouveau"
