"""The gettext catalogs (ADR-23): every key the code uses is translated in es and en, none fuzzy,
and the compiled .mo files shipped in the wheel say what their .po files say."""

from __future__ import annotations

from pathlib import Path
from string import Formatter as Fields

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from documents.i18n import LANGUAGES, LOCALE_DIR
from domain.model import events as ev

ROOT = Path(__file__).parent.parent.parent


def _po(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "tratos.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    """The keys the code uses today, extracted as `make messages` does."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "t": None}
    return {message for _, _, message, _, _ in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords, strip_comment_tags=True)}


def test_the_template_holds_every_key_the_code_uses(extracted: set[str]) -> None:
    with open(LOCALE_DIR / "tratos.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert extracted == template, "run `make messages`"


def test_every_event_has_its_sentence(extracted: set[str]) -> None:
    kinds = {cls.__name__ for cls in vars(ev).values()
             if isinstance(cls, type) and issubclass(cls, ev.RelationshipEvent) and cls is not ev.RelationshipEvent}
    assert kinds and {f"event.{kind}" for kind in kinds} <= extracted


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_is_translated_and_none_is_fuzzy(extracted: set[str], lang: str) -> None:
    catalog = _po(lang)
    assert not catalog.fuzzy, f"the {lang} catalog's header is marked fuzzy"
    messages = {m.id: m for m in catalog if m.id}
    assert sorted(extracted - messages.keys()) == [], f"keys missing in {lang}: run `make messages`"
    assert sorted(messages.keys() - extracted) == [], f"keys {lang} has that no code uses"
    assert [key for key, m in messages.items() if not m.string] == [], f"untranslated in {lang}"
    assert [key for key, m in messages.items() if m.fuzzy] == [], f"fuzzy in {lang}"
    # Texts are trusted as markup (Formatter.t escapes only the values): plain text only.
    assert [key for key, m in messages.items() if "<" in m.string or "&" in m.string] == []


def test_both_languages_fill_the_same_placeholders() -> None:
    es, en = ({m.id: m.string for m in _po(lang) if m.id} for lang in ("es", "en"))

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Fields().parse(text) if name}

    assert {key: (fields(es[key]), fields(en[key])) for key in es
            if fields(es[key]) != fields(en[key])} == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalog_says_what_its_po_says(lang: str) -> None:
    """The .mo is committed and shipped; a .po edited without `make messages` fails here."""
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "tratos.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == {m.id: m.string for m in _po(lang) if m.id}, "run `make messages`"
