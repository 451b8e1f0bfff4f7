"""One apostrophe in what users read: the typographic ’, never the typewriter '.

Scanned: the text and the {% translate %} / {% blocktranslate %} strings of every
template (pages and emails), the strings given to gettext in Python, the documentation
pages and the scripts' string literals. Comments, code and HTML attribute quoting are
not text and are left out."""

import ast
import re
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"tests", ".venv", ".tools", "node_modules", "locale", "static"}
GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
# A straight apostrophe between two letters: "l'utilisateur", "aujourd'hui".
STRAIGHT = re.compile(r"[^\W\d_]'[^\W\d_]")
TRANSLATE_STRING = re.compile(r"""^(?:translate|trans)\s+(?:"([^"]*)"|'([^']*)')""")
COMMENT_BLOCK = re.compile(r"{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}|<!--.*?-->", re.S)
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S | re.I)


def straight_apostrophes(text):
    return [text[max(0, m.start() - 25) : m.end() + 25] for m in STRAIGHT.finditer(text)]


def template_texts(source):
    """The text a template shows: its text nodes (inline scripts apart) and the strings of
    its translate tags, blocktranslate bodies included."""
    source = COMMENT_BLOCK.sub("", source)
    scripts = []

    def keep_script(match):
        scripts.append(match.group(2))
        return match.group(0).replace(match.group(2), "")

    source = SCRIPT_OR_STYLE.sub(keep_script, source)
    texts = [text for script in scripts for text in js_strings(script)]
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.TEXT:
            texts.append(token.contents)
        elif token.token_type == TokenType.BLOCK:
            match = TRANSLATE_STRING.match(token.contents)
            if match:
                texts.append(match.group(1) or match.group(2))
    return texts


def js_strings(source):
    """String literals of a script, comments out."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"(?m)^\s*//.*$|(?<=[;{}),])\s*//.*$", "", source)
    literals = re.finditer(r"""(["'`])((?:\\.|(?!\1).)*)\1""", source, re.S)
    return [m.group(2).replace("\\'", "'") for m in literals]


def gettext_strings(tree):
    """Strings given to gettext and its variants, adjacent literals joined."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT:
            continue
        for argument in node.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield node.lineno, argument.value


def _files(pattern, under=ROOT):
    for path in under.rglob(pattern):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def test_the_scan_finds_straight_apostrophes_in_each_kind_of_text():
    template = (
        "{% load i18n %}{# the user's comment #}<p title=\"{% translate 'Aide' %}\">L'aide</p>"
        "{% translate \"Sélectionnez l'utilisateur\" %}"
        "{% blocktranslate %}Aujourd'hui{% endblocktranslate %}"
        "{% comment %}the library's markup{% endcomment %}"
        "<script>// the server's clock\nalert(\"Session d'une heure\"); say('l\\'aide');</script>"
    )
    found = [hit for text in template_texts(template) for hit in straight_apostrophes(text)]
    assert len(found) == 5
    assert not any("user's" in hit or "library's" in hit or "server's" in hit for hit in found)

    tree = ast.parse("_(\"Choisissez l'utilisateur\")\nlabel = \"the user's\"\ngettext_lazy('Rien')")
    assert [text for _line, text in gettext_strings(tree)] == ["Choisissez l'utilisateur", "Rien"]


def test_templates_use_the_typographic_apostrophe():
    offending = {}
    for path in [*_files("*.html", ROOT / "templates"), *_files("*.txt", ROOT / "templates")]:
        texts = template_texts(path.read_text(encoding="utf-8"))
        hits = [hit for text in texts for hit in straight_apostrophes(text)]
        if hits:
            offending[str(path.relative_to(ROOT))] = hits
    assert offending == {}


def test_translatable_strings_use_the_typographic_apostrophe():
    offending = []
    for path in _files("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in gettext_strings(tree):
            if straight_apostrophes(text):
                offending.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert offending == []


def test_documentation_pages_use_the_typographic_apostrophe():
    offending = {}
    for path in (ROOT / "support" / "docs_content").glob("*.md"):
        # Code spans and blocks are not prose.
        text = re.sub(r"```.*?```|`[^`]*`", "", path.read_text(encoding="utf-8"), flags=re.S)
        if hits := straight_apostrophes(text):
            offending[path.name] = hits
    assert offending == {}


def test_script_messages_use_the_typographic_apostrophe():
    offending = {}
    for path in (ROOT / "static" / "js").glob("*.js"):
        texts = js_strings(path.read_text(encoding="utf-8"))
        hits = [hit for text in texts for hit in straight_apostrophes(text)]
        if hits:
            offending[path.name] = hits
    assert offending == {}
