"""What the form fuzzing needs: the forms of the portal read from its own pages, a
snapshot of the database, and the hypothesis strategies of hostile input."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from hypothesis import strategies as st

MISSING = object()


class FormsParser(HTMLParser):
    """Every <form> of a page: its method, its action (a path) and its fields, each with
    the values the page offers (option values, hidden and checkbox values)."""

    def __init__(self, page_path):
        super().__init__()
        self.page_path = page_path
        self.forms = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = urlsplit(attrs.get("action") or self.page_path).path or self.page_path
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": action, "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea", "select", "button") and attrs.get("name"):
            name = attrs["name"]
            if name == "csrfmiddlewaretoken":
                return
            kind = "file" if attrs.get("type") == "file" else "text"
            values = self._form["fields"].setdefault(name, {"kind": kind, "values": []})["values"]
            if attrs.get("value") not in (None, ""):
                values.append(attrs["value"])
            if tag == "select":
                self._select = values
        elif tag == "option" and self._select is not None and attrs.get("value") not in (None, ""):
            self._select.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(page_path, html):
    parser = FormsParser(page_path)
    parser.feed(html)
    return parser.forms


# The database, whole: every table of the portal's models, sessions and lockout
# records apart (logging in writes them, whatever the form does).
SKIPPED_TABLES = {"django_session"}


def _tables():
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.app_label not in ("axes", "sessions"):
            tables.add(meta.db_table)
    return sorted(tables - SKIPPED_TABLES)


def snapshot():
    """table → sorted rows, to tell whether a request changed anything."""
    state = {}
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            state[table] = sorted(map(repr, cursor.fetchall()))
    return state


def changed_tables(before, after):
    return sorted(table for table in before if before[table] != after[table])


# Hostile input

_unicode = st.characters(exclude_categories=("Cs",))  # any character UTF-8 can carry
SPECIALS = [
    "\x00",
    "a\x00b",
    "\u202egnp.exe",
    "\u200b",
    "\ufeff",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "{{ 7*7 }}",
    "\U0001f4a9",
    " ",
    "\r\n",
]
WRONG_TYPES = [
    "abc",
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "2026-13-45",
    "31/02/2026",
    "true",
    "[]",
    "{}",
    "null",
    "FR76",
    "999999",
]


def _long(piece):
    return st.builds(lambda text, times: (text * times)[:100_000], piece, st.integers(2_000, 100_000))


def scalar(offered):
    """One value for a field: one it offers, hostile text, a wrong type or a huge one."""
    choices = [
        st.text(_unicode, max_size=40),
        st.sampled_from(SPECIALS),
        st.sampled_from(WRONG_TYPES),
        _long(st.text(_unicode, min_size=1, max_size=3)),
    ]
    if offered:
        choices.insert(0, st.sampled_from(offered))
    return st.one_of(choices)


def _upload(name, content):
    return SimpleUploadedFile(name, content)


def file_value():
    return st.builds(
        _upload,
        st.sampled_from(["a.pdf", "a.txt", "../x.pdf", "\u202efdp.exe", "a" * 300 + ".png"]),
        st.binary(max_size=200),
    )


def field_value(field):
    """Missing, one value, or the same key twice or more."""
    one = file_value() if field["kind"] == "file" else scalar(field["values"])
    return st.one_of(st.just(MISSING), one, st.lists(one, min_size=2, max_size=3))


def form_data(fields):
    """A body (or query) for a form: each field fuzzed, plus now and then a field the
    form does not know."""
    names = sorted(fields)
    return st.builds(
        _assemble,
        st.fixed_dictionaries({name: field_value(fields[name]) for name in names}),
        st.one_of(
            st.just({}), st.dictionaries(st.text(_unicode, min_size=1, max_size=8), scalar([]), max_size=2)
        ),
    )


def _assemble(values, extra):
    data = {name: value for name, value in values.items() if value is not MISSING}
    for name, value in extra.items():
        data.setdefault(name, value)
    return data


# Fields every list or action may read from its query string or body, whatever its form
# shows: paging, sorting, filters, export format, the htmx switches.
GENERIC_FIELDS = {
    name: {"kind": "text", "values": []}
    for name in ("page", "sort", "order", "q", "structure", "status", "format", "action", "next", "type")
}


def _header_text():
    # What a WSGI server hands over: no line breaks, Latin-1 at most.
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)


def headers():
    """Request headers the portal reads: the htmx and fragment switches, the answer
    format (the chat answers JSON), the request id put in the logs, the language."""
    return st.fixed_dictionaries(
        {},
        optional={
            "HX-Request": st.sampled_from(["true", "false", ""]),
            "X-Requested-With": st.sampled_from(["XMLHttpRequest", "x"]),
            "Accept": st.one_of(st.sampled_from(["application/json", "text/html", "*/*"]), _header_text()),
            "X-Request-ID": _header_text(),
            "Accept-Language": st.one_of(
                st.sampled_from(["en", "fr", "de", "en-US,en;q=0.5"]), _header_text()
            ),
            "Referer": _header_text(),
        },
    )
