"""Seed the documentation: one page per application of Organisation and Support, plus
account creation, activation, login and password help.

The pages are the Markdown files of support/docs_content/ (front matter, then the body).
Pages are found by their slug: running the seed again updates them, and operators'
own pages are left alone.
"""

from pathlib import Path

from django.db import migrations

CONTENT_DIR = Path(__file__).resolve().parent.parent / "docs_content"
FIELDS = {"slug", "title", "application", "audience", "theme", "section", "order", "summary"}


def read_page(path):
    """Front matter ("key: value" lines between two "---" lines), then the body."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError(f"{path.name}: the page must start with its front matter")
    header, _, body = text[4:].partition("\n---\n")
    meta = {}
    for line in header.splitlines():
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in FIELDS:
            raise ValueError(f"{path.name}: unexpected front matter line {line!r}")
        meta[key.strip()] = value.strip()
    meta["body"] = body.strip() + "\n"
    return meta


def pages():
    return [read_page(path) for path in sorted(CONTENT_DIR.glob("*.md"))]


def seed_pages(apps, schema_editor):
    DocPage = apps.get_model("support", "DocPage")
    Application = apps.get_model("chorus", "Application")
    applications = {app.code: app for app in Application.objects.all()}
    for page in pages():
        DocPage.objects.update_or_create(
            slug=page["slug"],
            defaults={
                "title": page["title"],
                "audience": page.get("audience") or "tous",
                "theme": page["theme"],
                "section": page["section"],
                "summary": page.get("summary", ""),
                "body": page["body"],
                "order": int(page.get("order") or 0),
                "application": applications.get(page.get("application", "")),
                "is_published": True,
            },
        )


def unseed_pages(apps, schema_editor):
    slugs = [page["slug"] for page in pages()]
    apps.get_model("support", "DocPage").objects.filter(slug__in=slugs).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0002_categories"), ("chorus", "0007_application_urls_support")]

    operations = [migrations.RunPython(seed_pages, unseed_pages)]
