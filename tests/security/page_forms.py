"""Submit a page's form as a browser would: the values the page shows (hidden inputs,
checked boxes, selected options, text), with the fields a test changes on top."""

from html.parser import HTMLParser
from urllib.parse import urlsplit


class _FormValues(HTMLParser):
    def __init__(self, page_path):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms = []
        self._form = None
        self._select = None  # (name, values, first option)
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = urlsplit(attrs.get("action") or self.page_path).path or self.page_path
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": action, "data": {}}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        data = self._form["data"]
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    data.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = data.setdefault(name, [])
            self._textarea.append("")
        elif tag == "select" and name:
            self._select = {"name": name, "selected": [], "multiple": "multiple" in attrs}
        elif tag == "option" and self._select is not None and "selected" in attrs:
            self._select["selected"].append(attrs.get("value", ""))

    def handle_data(self, text):
        if self._textarea is not None:
            self._textarea[-1] += text

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if self._select["selected"]:
                self._form["data"].setdefault(self._select["name"], []).extend(self._select["selected"])
            self._select = None


def post_forms(page_path, html) -> list[dict]:
    """The POST forms of a page: [{"action": path, "data": {name: [values]}}]."""
    parser = _FormValues(page_path)
    parser.feed(html)
    return [form for form in parser.forms if form["method"] == "post"]


def form_data(page_path, html, action=None) -> dict:
    """The values of the page's POST form that posts to `action` (the page by default)."""
    action = action or page_path
    for form in post_forms(page_path, html):
        if form["action"] == action:
            return {name: values if len(values) > 1 else values[0] for name, values in form["data"].items()}
    return {}
