"""A small, safe Markdown subset for the documentation pages.

Supported: headings (``##``), paragraphs, bulleted and numbered lists, quotes (shown as a
DSFR highlight), fenced code, and inline ``**bold**``, ``*italic*``, ```code``` and links.
Everything else is escaped: the output contains no markup that the input did not get
from this subset. Links go only to pages of the portal: a relative URL (``/…``, ``#…``),
a documentation page (``doc:slug``) or a named URL (``url:structures:bank_create``);
any other target (``javascript:``, ``https://…``, ``//host``) keeps its text, without
a link.

The same parser gives `sections()`: the page cut at its headings, as plain text, which
is what the virtual assistant searches and quotes.
"""

import re
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify

HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
BULLET_RE = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED_RE = re.compile(r"^\s*\d+[.)]\s+(.*)$")
QUOTE_RE = re.compile(r"^\s*>\s?(.*)$")
FENCE_RE = re.compile(r"^\s*```")
CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")
LINK_RE = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
BOLD_RE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC_RE = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")


@dataclass
class Block:
    kind: str  # heading, paragraph, ul, ol, quote, code
    level: int = 0
    lines: list = field(default_factory=list)


def parse(text: str) -> list[Block]:
    """Cut the Markdown source into blocks (one pass, line by line)."""
    blocks: list[Block] = []
    current: Block | None = None
    in_code = False
    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if in_code:
            if FENCE_RE.match(raw):
                in_code, current = False, None
            else:
                current.lines.append(raw)
        elif FENCE_RE.match(raw):
            current = Block("code")
            blocks.append(current)
            in_code = True
        elif not raw.strip():
            current = None
        else:
            current = _add_line(blocks, current, raw)
    return blocks


# Lines that open (or continue) a block of their own kind.
MARKED_LINES = ((BULLET_RE, "ul"), (NUMBERED_RE, "ol"), (QUOTE_RE, "quote"))


def _add_line(blocks, current, raw) -> Block | None:
    """Put one line of text in the block it continues or opens; return the block the
    next line may continue (none after a heading)."""
    line = raw.rstrip()
    if match := HEADING_RE.match(line):
        blocks.append(Block("heading", level=max(2, min(len(match.group(1)), 4)), lines=[match.group(2)]))
        return None
    for pattern, kind in MARKED_LINES:
        if match := pattern.match(line):
            current = _open_block(blocks, current, kind)
            current.lines.append(match.group(1))
            return current
    if current is not None and current.kind in ("ul", "ol") and raw[:1].isspace():
        # An indented line continues the list item above it.
        current.lines[-1] += " " + line.strip()
        return current
    if current is not None and current.kind in ("paragraph", "quote"):
        current.lines.append(line.strip())
        return current
    current = Block("paragraph", lines=[line.strip()])
    blocks.append(current)
    return current


def _open_block(blocks, current, kind):
    """The current block if it is of this kind, else a new one."""
    if current is not None and current.kind == kind:
        return current
    block = Block(kind)
    blocks.append(block)
    return block


def heading_ids(blocks) -> dict[int, str]:
    """A unique anchor for each heading block, from its text (accents folded)."""
    ids, seen = {}, set()
    for index, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        base = slugify(plain_inline(block.lines[0])) or "section"
        anchor, n = base, 2
        while anchor in seen:
            anchor, n = f"{base}-{n}", n + 1
        seen.add(anchor)
        ids[index] = anchor
    return ids


def render(text: str):
    """The page body as HTML. Every character of the source is escaped; only the tags
    written below are produced, so the result is safe to insert in a page."""
    blocks = parse(text)
    anchors = heading_ids(blocks)
    html = []
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            level = block.level
            html.append(f'<h{level} id="{anchors[index]}">{_inline(block.lines[0])}</h{level}>')
        elif block.kind == "paragraph":
            html.append(f"<p>{_inline(' '.join(block.lines))}</p>")
        elif block.kind in ("ul", "ol"):
            items = "".join(f"<li>{_inline(item)}</li>" for item in block.lines)
            html.append(f"<{block.kind}>{items}</{block.kind}>")
        elif block.kind == "quote":
            paragraphs = _paragraphs(block.lines)
            body = "".join(f"<p>{_inline(p)}</p>" for p in paragraphs)
            html.append(f'<div class="fr-highlight">{body}</div>')
        elif block.kind == "code":
            html.append(f"<pre><code>{escape(chr(10).join(block.lines))}</code></pre>")
    # Safe by construction: the source was escaped piece by piece above.
    return mark_safe("\n".join(html))


def _paragraphs(lines):
    paragraphs, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _inline(text: str) -> str:
    parts = CODE_SPAN_RE.split(text)
    out = []
    for i, part in enumerate(parts):
        out.append(f"<code>{escape(part)}</code>" if i % 2 else _links(part))
    return "".join(out)


def _links(text: str) -> str:
    out, position = [], 0
    for match in LINK_RE.finditer(text):
        out.append(_emphasis(escape(text[position : match.start()])))
        label = _emphasis(escape(match.group(1)))
        href = safe_href(match.group(2))
        out.append(f'<a href="{escape(href)}">{label}</a>' if href else label)
        position = match.end()
    out.append(_emphasis(escape(text[position:])))
    return "".join(out)


def _emphasis(escaped: str) -> str:
    escaped = BOLD_RE.sub(r"<strong>\1</strong>", escaped)
    return ITALIC_RE.sub(r"<em>\1</em>", escaped)


def safe_href(target: str) -> str:
    """The URL a link may point to, or "" when the target is not a page of the portal."""
    target = target.strip()
    if target.startswith("doc:"):
        slug = target[4:]
        if not re.fullmatch(r"[-a-z0-9_]+", slug):
            return ""
        try:
            return reverse("support:doc_page", args=[slug])
        except NoReverseMatch:
            return ""
    if target.startswith("url:"):
        name, _, anchor = target[4:].partition("#")
        try:
            url = reverse(name)
        except NoReverseMatch:
            return ""
        return f"{url}#{anchor}" if anchor else url
    if target.startswith("//") or target.startswith("/\\"):
        return ""
    if target[:1] in ("/", "#", "?") and not any(c in target for c in '"<>\\') and ":" not in target:
        return target
    return ""


# Plain text, for search and for the assistant's quotations


def plain_inline(text: str) -> str:
    """The text a reader sees, without the Markdown signs (not escaped: the templates
    escape it when they show it)."""
    text = LINK_RE.sub(r"\1", text)
    text = CODE_SPAN_RE.sub(r"\1", text)
    text = BOLD_RE.sub(r"\1", text)
    return ITALIC_RE.sub(r"\1", text)


@dataclass
class Section:
    anchor: str  # "" for the text before the first heading
    heading: str
    lines: list  # plain-text paragraphs and list items, in reading order

    @property
    def text(self):
        return " ".join(self.lines)


def sections(text: str) -> list[Section]:
    """The page cut at its headings (## and ###), each as plain-text lines."""
    blocks = parse(text)
    anchors = heading_ids(blocks)
    result = [Section("", "", [])]
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            result.append(Section(anchors[index], plain_inline(block.lines[0]), []))
        elif block.kind == "paragraph":
            result[-1].lines.append(plain_inline(" ".join(block.lines)))
        elif block.kind in ("ul", "ol"):
            result[-1].lines.extend(plain_inline(item) for item in block.lines)
        elif block.kind == "quote":
            result[-1].lines.extend(plain_inline(p) for p in _paragraphs(block.lines))
        elif block.kind == "code":
            result[-1].lines.append("\n".join(block.lines))
    return [s for s in result if s.lines or s.heading]


def toc(text: str) -> list[dict]:
    """The page's main headings (##), for its summary: [{anchor, title}]."""
    blocks = parse(text)
    anchors = heading_ids(blocks)
    return [
        {"anchor": anchors[index], "title": plain_inline(block.lines[0])}
        for index, block in enumerate(blocks)
        if block.kind == "heading" and block.level == 2
    ]


def plain_text(text: str) -> str:
    """The whole page as plain text (for the accent-insensitive search)."""
    return "\n".join((s.heading + "\n" if s.heading else "") + "\n".join(s.lines) for s in sections(text))
