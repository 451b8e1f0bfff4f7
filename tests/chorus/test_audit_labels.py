"""Every action the code base records has a French label: a history or the back-office
list never shows a code such as `ticket_submit`. The code records only members of
AuditAction, and every member has its label."""

import ast
from pathlib import Path

from chorus.actions import AuditAction, action_label

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"tests", "migrations", ".venv", ".tools", "node_modules", "static", "locale"}


def _strings(node):
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _names(target):
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _literal_actions(tree):
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


def _members_named(tree):
    """The names read as `AuditAction.NAME`."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "AuditAction"
    }


def _source_trees():
    for path in ROOT.rglob("*.py"):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_the_scan_finds_an_action_given_as_a_literal_in_each_way():
    source = """
def _audit(agent, ticket, action, before): ...
audit.record(actor=a, obj=o, action="membership_attach")
audit.record(actor=a, obj=o, action="approval_approve" if approve else "approval_refuse")
DELETE_ACTION = "admin_delete"
before, action = {}, "ticket_update"
_audit(agent, ticket, "ticket_assign", before)
parser.add_argument("--check", action="store_true")
"""
    assert _literal_actions(ast.parse(source)) == {
        "membership_attach",
        "approval_approve",
        "approval_refuse",
        "admin_delete",
        "ticket_update",
        "ticket_assign",
    }


def test_the_code_base_records_no_action_as_a_literal():
    literals = {
        f"{path.relative_to(ROOT)}: {action}"
        for path, tree in _source_trees()
        for action in _literal_actions(tree)
    }
    assert sorted(literals) == []


def test_every_action_the_code_base_names_is_a_member():
    named = set()
    for _path, tree in _source_trees():
        named |= _members_named(tree)
    assert {"MEMBERSHIP_ATTACH", "TICKET_REQUEST_INFORMATION", "ADMIN_DELETE"} <= named
    assert sorted(named - {*AuditAction.__members__, "choices", "values", "labels", "names"}) == []


def test_every_action_has_a_french_label():
    # TextChoices makes a label from the member's name when none is given.
    unlabelled = [
        action.value
        for action in AuditAction
        if str(action.label) in (action.value, action.name.replace("_", " ").title())
    ]
    assert unlabelled == []


def test_an_unknown_action_is_shown_as_recorded():
    assert action_label("ticket_submit") == "Envoi d’un ticket"
    assert action_label(AuditAction.TICKET_SUBMIT) == "Envoi d’un ticket"
    assert action_label("quelque_chose_de_nouveau") == "quelque_chose_de_nouveau"
