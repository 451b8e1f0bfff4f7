"""Where a page is found: every view of an app is routed by that app's urls.py, and
only urls.py files hold URL patterns."""

import ast
import importlib
import inspect
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent.parent
ROOT_URLCONF_PACKAGE = "config"


def _project_packages():
    """The apps of this repository that are installed, and the project package."""
    installed = {config.name.split(".")[0] for config in apps.get_app_configs()}
    return sorted(name for name in installed if (ROOT / name / "__init__.py").exists()) + [
        ROOT_URLCONF_PACKAGE
    ]


def _view_modules(package):
    """`<package>/views.py` or the modules of `<package>/views/`."""
    if (ROOT / package / "views.py").exists():
        return [f"{package}.views"]
    return [
        f"{package}.views.{path.stem}"
        for path in sorted((ROOT / package / "views").glob("*.py"))
        if path.stem != "__init__"
    ]


def _targets(callback):
    """The functions and classes a URL pattern's callback stands for, decorators and
    `as_view()` unwrapped."""
    found = []
    while callback is not None:
        found.append(callback)
        view_class = getattr(callback, "view_class", None)
        if view_class is not None:
            found.append(view_class)
        callback = getattr(callback, "__wrapped__", None)
    return found


def _routed(resolver=None, urlconf=None):
    """(the urls module whose patterns route it, target) for every view of the URL map;
    an `include()` of a list stays with the module that holds the list."""
    resolver = resolver or get_resolver()
    urlconf = urlconf or resolver.urlconf_name
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            included = pattern.urlconf_name
            if isinstance(included, str):
                module = included
            elif inspect.ismodule(included):
                module = included.__name__
            else:
                module = urlconf
            yield from _routed(pattern, module)
        elif isinstance(pattern, URLPattern):
            for target in _targets(pattern.callback):
                yield urlconf, target


def _error_handlers():
    resolver = get_resolver()
    for status in (400, 403, 404, 500):
        for target in _targets(resolver.resolve_error_handler(status)):
            yield resolver.urlconf_name, target


def _named_by_settings(package):
    """Views a setting names, which a library calls (AXES_LOCKOUT_CALLABLE): reached
    through the configuration rather than a URL."""
    for name in dir(settings):
        value = getattr(settings, name)
        if name.isupper() and isinstance(value, str) and value.startswith(f"{package}.views."):
            module, _dot, qualname = value.rpartition(".")
            yield f"{package}.urls", module, qualname


def test_every_public_view_is_routed_by_its_apps_urls():
    routed = {
        (urlconf, getattr(target, "__module__", ""), getattr(target, "__qualname__", ""))
        for urlconf, target in [*_routed(), *_error_handlers()]
    }
    for package in _project_packages():
        routed.update(_named_by_settings(package))
    unrouted = []
    for package in _project_packages():
        for module_name in _view_modules(package):
            module = importlib.import_module(module_name)
            for name, member in vars(module).items():
                if name.startswith("_") or not (inspect.isfunction(member) or inspect.isclass(member)):
                    continue
                if member.__module__ != module_name:
                    continue  # imported, not defined here
                if (f"{package}.urls", module_name, member.__qualname__) not in routed:
                    unrouted.append(f"{module_name}.{name}")
    assert unrouted == [], "not routed by its app’s urls.py (a helper’s name starts with _): " + ", ".join(
        unrouted
    )


def test_the_scan_sees_the_views_of_every_app():
    packages = _project_packages()
    assert {"structures", "users", "approvals", "support", "config"} <= set(packages)
    assert "users.views.accounts" in _view_modules("users")
    assert _view_modules("approvals") == ["approvals.views"]


def _defines_urlpatterns(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(target, ast.Name) and target.id == "urlpatterns" for target in targets):
            return True
    return False


def test_only_urls_modules_define_urlpatterns():
    offenders = [
        str(path.relative_to(ROOT))
        for package in _project_packages()
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "urls.py" and "migrations" not in path.parts and _defines_urlpatterns(path)
    ]
    assert offenders == []


# Imported inside a function on purpose: the app registry's ready() hooks, and heavy third-party
# libraries that only a few requests need (spreadsheets, PDF checks, the object storage client).
LAZY_IMPORTS = {"openpyxl", "pypdf", "botocore"}


def _function_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module.split(".")[0] not in LAZY_IMPORTS:
                    yield f"{path.relative_to(ROOT)}:{node.lineno} {module}"


def test_imports_are_at_module_level():
    """An import inside a function hides a dependency, and often a cycle."""
    found = [
        line
        for package in _project_packages()
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for line in _function_imports(path)
    ]
    assert found == []
