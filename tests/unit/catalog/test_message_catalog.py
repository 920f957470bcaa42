"""Every text a person reads comes from the message catalog (security/messages.py).

The language issue swaps the catalog's lookup for gettext in one place; a sentence written
straight into a template, a view, a form, a domain refusal or the gear's JavaScript would
stay English on a Russian page. These tests read the sources, so they fail as soon as one
is added, before any page is drawn.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from security.messages import MESSAGES, Plural

ROOT = Path(__file__).resolve().parents[3]
# The API for other services speaks to programs and their authors, in English, as its
# OpenAPI document does: its problem documents, its schemas and the page drawn from them.
FOR_PROGRAMS = frozenset(
    {
        ROOT / "blueprints" / "api.py",
        ROOT / "web" / "api_problems.py",
        ROOT / "templates" / "api" / "docs.html",
    }
)
TEMPLATES = sorted(
    path for path in (ROOT / "templates").rglob("*.html") if path not in FOR_PROGRAMS
)
VIEW_SOURCES = sorted(
    path
    for folder in ("blueprints", "forms", "web")
    for path in (ROOT / folder).rglob("*.py")
    if path not in FOR_PROGRAMS
) + [ROOT / "security" / "form_layouts" / "builtin.py"]  # the gear's shipped labels
SCRIPTS = sorted((ROOT / "static").glob("*.js"))
# Where catalog keys are used: everything but the catalog itself and the tests.
KEY_SOURCES = sorted(
    path
    for folder in ("blueprints", "forms", "security", "models", "web")
    for path in (ROOT / folder).rglob("*.py")
    if path.name != "messages.py"
) + [ROOT / "app.py", ROOT / "db_setup.py", ROOT / "commands.py"]

# Words that are the same in every language: protocol and algorithm names, the URI
# scheme, time zone and file format names.
ALLOWED_WORDS = frozenset(
    {"TOTP", "HOTP", "QR", "otpauth", "SHA", "RFC", "UTC", "HMAC", "Base32", "CSV"}
)
# Python literals that look like words but are not read by a person: HTTP header names
# and cookie attributes, browser and system names (proper names), and the health check's
# plain-text answer to monitors.
ALLOWED_PYTHON_LITERALS = frozenset(
    {
        "Content-Disposition",
        "Content-Type",
        "Authorization",
        "Forwarded",
        "X-Forwarded-For",
        "WWW-Authenticate",
        'Bearer realm="metrics"',
        "Transfer-Encoding",
        "User-Agent",
        "Lax",
        "database unavailable",
        "Edge",
        "Opera",
        "Firefox",
        "Chrome",
        "Safari",
        "Android",
        "Windows",
        "Mac OS X",
        "CrOS",
        "ChromeOS",
        "Linux",
    }
)
PROMETHEUS_METRICS = frozenset({"Counter", "Histogram", "Gauge", "GaugeMetricFamily"})
# Attributes whose values a person reads or hears.
SHOWN_ATTRIBUTES = frozenset({"title", "aria-label", "placeholder", "alt", "data-confirm"})

# Only reads templates (lexes and parses them); nothing is rendered with it.
JINJA = Environment(autoescape=True, extensions=["jinja2.ext.do"])

_WORD = re.compile(r"[A-Za-z]{2,}")
_PROSE_WORD = re.compile(r"\b[A-Za-z][a-z]+\b")
_TWO_WORDS = re.compile(r"\b[A-Za-z][a-z]*\s+[A-Za-z]{2,}")
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
# Blocks that fill a class attribute of the base layout ({% block body_class %}page-narrow…).
_CLASS_BLOCK = re.compile(r"\{% block \w+_class %\}.*?\{% endblock %\}", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")


def _without_allowed(text: str) -> str:
    return " ".join(
        "" if word.strip(".,:;()") in ALLOWED_WORDS else word for word in text.split(" ")
    )


def is_markup_text(text: str) -> bool:
    """Text between tags: any word of two or more letters is a word a person reads."""
    return bool(_WORD.search(_without_allowed(text)))


def is_prose(literal: str) -> bool:
    """A string literal in code: two words, a capitalised word, or a word with spaces round it.

    Identifiers, endpoints, CSS classes, keys and formats ("admin.users", "state-on",
    "totp", "%Y-%m-%d") are none of these.
    """
    text = _without_allowed(literal)
    if _KEY.match(literal.strip()):
        return False
    words = _PROSE_WORD.findall(text)
    if not words:
        return False
    if _TWO_WORDS.search(text):
        return True
    if any(word[0].isupper() for word in words):
        return True
    return literal != literal.strip() and any(len(word) > 1 for word in words)


# ---------------------------------------------------------------------------- templates


class _ShownText(HTMLParser):
    """Collect the text nodes and the shown attribute values of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and name in SHOWN_ATTRIBUTES:
                self.found.append((f"{tag}[{name}]: ", value))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.found.append(("input[value]: ", values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.found.append(("", " ".join(data.split())))


def english_in_template(source: str) -> list[str]:
    """Return the English a template holds outside t(…) calls."""
    found: list[str] = []
    # 1. Markup: the template with every Jinja tag replaced by a mark without letters.
    parser = _ShownText()
    parser.feed(_JINJA.sub(" § ", _CLASS_BLOCK.sub("", source)))
    parser.close()
    found += [where + text for where, text in parser.found if is_markup_text(text)]
    # 2. String literals inside Jinja expressions ('Save', {'active': 'Enabled'} …).
    for token in JINJA.lexer.tokenize(source):
        if token.type == "string" and is_prose(token.value):
            found.append(f"literal {token.value!r}")
    return found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_hold_no_english_outside_the_catalog(path: Path) -> None:
    assert english_in_template(path.read_text(encoding="utf-8")) == []


def test_the_template_check_finds_english() -> None:
    assert english_in_template("<p>Nothing to change.</p>") == ["Nothing to change."]
    assert english_in_template('<a title="Form settings">{{ t("nav.users") }}</a>') == [
        "a[title]: Form settings"
    ]
    assert english_in_template("{{ submit_button('Save') }}") == ["literal 'Save'"]
    assert english_in_template("{{ x }} of {{ y }}") == ["§ of §"]
    assert english_in_template("<p>{{ t('otp.connected') }} (TOTP, {{ n }})</p>") == []
    assert english_in_template("<td class=\"state-on\">{{ url_for('admin.users') }}</td>") == []


# ---------------------------------------------------------------------------- Python


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _not_for_people(tree: ast.AST) -> set[int]:
    """String constants for operators and machines: logger messages, regular expressions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute | ast.Name)
            and (
                getattr(node.func.value, "attr", None) == "logger"
                or getattr(node.func.value, "id", None) in ("log", "logger")  # module loggers
                or (getattr(node.func.value, "id", None) == "re" and node.func.attr == "compile")
            )
        ):
            found.update(id(arg) for arg in ast.walk(node) if isinstance(arg, ast.Constant))
        # Prometheus' names and help texts, read by operators in its own English.
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in PROMETHEUS_METRICS:
            found.update(id(arg) for arg in ast.walk(node) if isinstance(arg, ast.Constant))
        # A table from stored words to catalog keys ({"wrong password": "event.value…"}):
        # its keys are what the code matches, and the reader sees the catalog's text.
        if (
            isinstance(node, ast.Dict)
            and node.values
            and all(
                isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and _KEY.match(value.value)
                for value in node.values
            )
        ):
            found.update(id(key) for key in node.keys if key is not None)
    return found


def english_in_python(source: str) -> list[str]:
    """Return the English string literals of a view or form module."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _not_for_people(tree)
    return [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and node.value not in ALLOWED_PYTHON_LITERALS
        and is_prose(_text_of_markup(node.value))
    ]


def _text_of_markup(literal: str) -> str:
    """An HTML element built in code (`<time datetime="{}">{}</time>`): only its text counts."""
    if literal.startswith("<") and literal.endswith(">"):
        return _TAG.sub(" ", literal)
    return literal


@pytest.mark.parametrize("path", VIEW_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_views_and_forms_hold_no_english_outside_the_catalog(path: Path) -> None:
    assert english_in_python(path.read_text(encoding="utf-8")) == []


def test_the_python_check_finds_english() -> None:
    assert english_in_python('flash("Nothing to change.", "success")') == [
        "line 1: 'Nothing to change.'"
    ]
    assert english_in_python('StringField("Login")') == ["line 1: 'Login'"]
    assert english_in_python('LABELS = {"wrong password": "event.value.wrong_password"}') == []
    assert english_in_python('LABELS = {"wrong password": "Wrong password"}') != []
    assert english_in_python('Markup("<b>Signed in</b>")') != []
    assert english_in_python('Markup("<time datetime=\\"{}\\">{}</time>")') == []
    assert english_in_python('text += f" Clock drift: {n} seconds."') != []
    assert english_in_python('flash(message("user.saved"), "success")') == []
    assert english_in_python('app.logger.warning("database down: %s", name)') == []


# Domain exceptions whose text reaches a person (next to a field, in a flash).
SHOWN_REFUSALS = frozenset({"InvalidSecret", "SettingsError", "LayoutError"})


def test_domain_refusals_come_from_the_catalog() -> None:
    found = []
    for path in sorted((ROOT / "security").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in SHOWN_REFUSALS
            ):
                found += [
                    f"{path.name}:{node.lineno}: {arg.value!r}"
                    for arg in ast.walk(node)
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and is_prose(arg.value)
                ]
    assert found == []


def test_the_clock_offset_sentence_comes_from_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    from security import otp

    before = otp.describe_clock_offset(-3, 30)
    assert before == "your phone's clock is about 90 seconds behind"
    changed: dict[str, str | Plural] = {
        key: f"<{key}:{{duration}}>" for key in MESSAGES if key.startswith("otp.clock_")
    }
    changed |= {
        key: Plural(f"<{key}:{{count}}>", f"<{key}:{{count}}>")
        for key in MESSAGES
        if key.startswith("time.")
    }
    for key, text in changed.items():
        monkeypatch.setitem(MESSAGES, key, text)
    after = otp.describe_clock_offset(-3, 30)
    assert after != before
    assert "90" in (after or "")


# ---------------------------------------------------------------------------- JavaScript

_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_JS_COMMENT = re.compile(r"^\s*//.*$|/\*.*?\*/", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_take_their_texts_from_the_page(path: Path) -> None:
    source = _JS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    assert [text for text in _JS_STRING.findall(source) if is_prose(text)] == []


# ---------------------------------------------------------------------------- the keys


def _template_calls() -> Iterator[tuple[str, str, set[str] | None]]:
    """(template, key, keyword names or None when **values) for each t('key', …)."""
    for path in TEMPLATES:
        tree = JINJA.parse(path.read_text(encoding="utf-8"))
        # Texts handed whole to a script (`{…} | tojson`): the script fills their values.
        for_scripts = {
            id(call)
            for fltr in tree.find_all(nodes.Filter)
            if fltr.name == "tojson"
            for call in fltr.find_all(nodes.Call)
        }
        for call in tree.find_all(nodes.Call):
            if id(call) in for_scripts:
                continue
            if isinstance(call.node, nodes.Name) and call.node.name == "t" and call.args:
                first = call.args[0]
                if isinstance(first, nodes.Const) and isinstance(first.value, str):
                    names = None if call.dyn_kwargs else {kw.key for kw in call.kwargs}
                    yield path.name, first.value, names


# Calls whose first argument is a catalog key and whose keywords fill it.
KEY_CALLS = frozenset({"message", "lazy_message", "Refusal", "TwoStepError", "AccountError"})


def _python_calls() -> Iterator[tuple[str, str, set[str] | None]]:
    for path in [*KEY_SOURCES, *VIEW_SOURCES]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if name in KEY_CALLS and isinstance(first, ast.Constant):
                keywords = {kw.arg for kw in node.keywords}
                names = (
                    None if None in keywords else {k for k in keywords if k} - {"field", "status"}
                )
                yield path.name, str(first.value), names


def _placeholders(entry: str | Plural) -> set[str]:
    text = entry.other if isinstance(entry, Plural) else entry
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_used_exists_and_gets_its_values() -> None:
    problems = []
    for where, key, names in [*_template_calls(), *_python_calls()]:
        if key not in MESSAGES:
            problems.append(f"{where}: unknown key {key}")
        elif names is not None and names != _placeholders(MESSAGES[key]):
            wanted = sorted(_placeholders(MESSAGES[key]))
            problems.append(f"{where}: {key} takes {wanted}, given {sorted(names)}")
    assert problems == []


def test_every_key_is_used() -> None:
    used: set[str] = set()
    for path in [*KEY_SOURCES, *VIEW_SOURCES]:
        used |= {
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
    for path in TEMPLATES:
        used |= {
            token.value
            for token in JINJA.lexer.tokenize(path.read_text(encoding="utf-8"))
            if token.type == "string"
        }
    assert sorted(set(MESSAGES) - used) == []


def test_every_text_formats_with_named_values_only() -> None:
    for key, entry in MESSAGES.items():
        forms = (entry.one, entry.other) if isinstance(entry, Plural) else (entry,)
        for _, name, _spec, conversion in (
            part for text in forms for part in string.Formatter().parse(text)
        ):
            if name is not None:
                assert name.isidentifier(), (key, name)
                assert not conversion, key
        assert _KEY.match(key), key
